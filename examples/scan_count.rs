//! Scratch: instructions of the request scan (run under callgrind). Not committed.
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(1000);
    let body =
        std::fs::read_to_string(path).unwrap().replace("__MODEL__", "claude-json").replace("__STREAM__", "false");
    let b = body.as_bytes();
    let mut total = 0;
    for _ in 0..n {
        let t = amux::gateway::splice::TopLevel::parse(std::hint::black_box(b)).unwrap();
        total += t.fields.len();
    }
    println!("{total}");
}
