fn main() {
    println!("framecast {}", env!("CARGO_PKG_VERSION"));
}
