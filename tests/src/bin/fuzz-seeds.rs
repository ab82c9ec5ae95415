//! `fuzz-seeds DIR`: writes each fuzz target's seeds, valid inputs built by
//! [`myco_tests::decoders`], into `DIR/<target>/seed-<n>`, so a coverage-guided fuzzer starts
//! from inputs that reach deep into each decoder rather than from nothing.
//!
//! `tests/fuzz/run` calls it before fuzzing. Exit codes: 2 for bad usage, 1 when a file
//! cannot be written.
//!
//! ```sh
//! fuzz-seeds tests/fuzz/corpus
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use myco_tests::decoders::TARGETS;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: fuzz-seeds DIR   (writes DIR/<target>/seed-<n> for every fuzz target)");
        return ExitCode::from(2);
    };
    match write_seeds(PathBuf::from(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn write_seeds(dir: PathBuf) -> anyhow::Result<()> {
    for target in TARGETS {
        let folder = dir.join(target.name);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        for (n, seed) in (target.seeds)().iter().enumerate() {
            let file = folder.join(format!("seed-{n}"));
            std::fs::write(&file, seed)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        println!("{}: {} seeds", target.name, (target.seeds)().len());
    }
    Ok(())
}
