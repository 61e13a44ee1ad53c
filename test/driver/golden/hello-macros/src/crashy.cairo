// A deliberately crashing macro, alone in its file: `#[crash]` (crash_macro) writes through a null
// pointer. Only the macro host running it dies; this call gets an error diagnostic and keeps its
// code as written, and everything else, even `add!` in this function's body, is still expanded.

#[crash]
fn boom() -> felt252 {
    (40) + (2)
}
