//! `cargo run --release -p droplab-bench --bin bench_mlp`: the MLP benchmark as JSON.
fn main() {
    let b = droplab_bench::Bench::new(droplab_bench::Task::Mlp);
    match droplab_bench::run(&b, |m| eprintln!("{m}")) {
        Ok(r) => println!("{}", serde_json::to_string(&r).expect("serializable")),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
