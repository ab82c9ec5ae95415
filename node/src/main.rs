//! The `myco` command; everything is in [`myco_node::cli`].

fn main() -> std::process::ExitCode {
    myco_node::cli::main_entry()
}
