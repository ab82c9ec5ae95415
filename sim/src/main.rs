//! `myco-sim`: the deterministic simulator's command line.

fn main() {
    println!(
        "myco-sim {}: the simulator lands with the pod engine; see docs/architecture.md",
        myco_sim::ENGINE_VERSION
    );
}
