//! A short run of the fuzz targets on stable Rust, in the test suite: every
//! corpus file, then mutations of them, through the same code `cargo fuzz`
//! runs (`runtime/fuzz/src/lib.rs`). The long runs are `cargo fuzz`'s; see
//! the README.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

const MUTATIONS: usize = 5000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
        .collect();
    files.sort();
    files
}

/// A small deterministic generator: the run is the same every time.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `seed`, with a few bytes flipped, inserted, erased or set to extremes.
fn mutate(rng: &mut XorShift, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(4) {
            0 if at < v.len() => v[at] ^= 1 << rng.below(8),
            1 => v.insert(at, rng.next() as u8),
            2 if at < v.len() => {
                v.remove(at);
            }
            _ => v
                .splice(at..at, [0xff, 0xff, 0xff, 0xff, 0x0f])
                .for_each(drop),
        }
    }
    v
}

fn run(target: &str, call: fn(&[u8])) {
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "empty corpus for {target}");
    for s in &seeds {
        call(s);
    }
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..MUTATIONS {
        let seed = &seeds[rng.below(seeds.len())];
        call(&mutate(&mut rng, seed));
    }
}

#[test]
fn the_config_target_survives_its_corpus_and_mutations() {
    run("config", targets::config);
}

#[test]
fn the_requests_target_survives_its_corpus_and_mutations() {
    run("requests", targets::requests);
}
