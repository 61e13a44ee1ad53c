// Uses one macro of each kind, each from its own macro package (see Scarb.toml).

/// `#[crash]` lives in a file of its own.
mod crashy;

/// Turns a value into one felt252; `#[derive(ToValue)]` (to_value_macro) writes the impls.
trait ToValue<T> {
    fn to_value(self: @T) -> felt252;
}

#[derive(Copy, Drop, ToValue)]
struct Point {
    x: felt252,
    y: felt252,
}

/// `#[instrument]` (tracing_macro) prints "enter area" and "exit area" around the body.
#[instrument]
fn area(width: felt252, height: felt252) -> felt252 {
    width * height
}

fn main() -> felt252 {
    // `add!(a, b)` (add_macro) expands to `(a) + (b)`.
    let p = Point { x: add!(1, 2), y: 4 };
    let perimeter = add!(p.x, p.y) * 2;
    add!(area(p.x, p.y), perimeter + p.to_value())
}
