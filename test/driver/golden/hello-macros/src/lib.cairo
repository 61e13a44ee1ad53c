// Uses one macro of each kind, each from its own macro package (see Scarb.toml).

/// `#[crash]` lives in a file of its own.
mod crashy;

/// Turns a value into one felt252; `#[derive(ToValue)]` (to_value_macro) writes the impls.
trait ToValue<T> {
    fn to_value(self: @T) -> felt252;
}

#[derive(Copy, Drop)]
struct Point {
    x: felt252,
    y: felt252,
}
impl PointToValue of ToValue<Point> {
    fn to_value(self: @Point) -> felt252 {
        0 + (*self.x).into() + (*self.y).into()
    }
}

/// `#[instrument]` (tracing_macro) prints "enter area" and "exit area" around the body.
fn area(width: felt252, height: felt252) -> felt252 {
    println!("enter area");
    let __instrument_result = {
        width * height
    };
    println!("exit area");
    __instrument_result
}

fn main() -> felt252 {
    // `add!(a, b)` (add_macro) expands to `(a) + (b)`.
    let p = Point { x: (1) + (2), y: 4 };
    let perimeter = ((p.x) + (p.y)) * 2;
    (area(p.x, p.y)) + (perimeter + p.to_value())
}
