//! The house's floors, checked: the folders of `runtime/src` import each
//! other without a cycle, exactly as ARCHITECTURE.md draws them, and the
//! crates depend on each other as it says (the rendezvous never on the
//! robot). A new import that climbs a floor fails here, and so does a
//! drawing that no longer tells the truth.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The folder (or single-file module) a source file belongs to.
fn floor_of(src: &Path, file: &Path) -> String {
    let first = file
        .strip_prefix(src)
        .expect("below src")
        .components()
        .next();
    let name = first.expect("a path").as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The top-level modules a `crate::` path names, `crate::{a, b::c}` included.
fn named_after_crate(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let (mut depth, mut items, mut current) = (0, Vec::new(), String::new());
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(ident(&current));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(ident(&current));
    items
}

/// Which floors each floor imports, from the code.
fn imports() -> Graph {
    let src = root().join("runtime/src");
    let mut graph = Graph::new();
    for file in sources(&src) {
        let floor = floor_of(&src, &file);
        if floor == "lib" || floor == "main" {
            continue; // the crate's roof: it may name anything
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        let edges = graph.entry(floor.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                for name in named_after_crate(&code[at + "crate::".len()..]) {
                    if !name.is_empty() && name != floor && name != "self" {
                        edges.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// The floors as ARCHITECTURE.md draws them, in its ```floors block.
fn drawn() -> Graph {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let block = doc
        .split("```floors\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("ARCHITECTURE.md has a ```floors block");
    let mut graph = Graph::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (floor, below) = line.split_once(':').expect("`floor: what it imports`");
        let below = below.split_whitespace().map(str::to_string).collect();
        graph.insert(floor.trim().to_string(), below);
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            return Some(path[at..].to_vec());
        }
        if !done.insert(n.to_string()) {
            return None;
        }
        path.push(n.to_string());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_folder_imports_a_floor_above_it() {
    let graph = imports();
    assert_eq!(cycle(&graph), None, "an import cycle between folders");
}

#[test]
fn the_drawing_in_architecture_md_is_the_code() {
    let (code, doc) = (imports(), drawn());
    for floor in code.keys().chain(doc.keys()).collect::<BTreeSet<_>>() {
        assert_eq!(
            code.get(floor),
            doc.get(floor),
            "runtime/src/{floor} imports {:?}; ARCHITECTURE.md draws {:?}",
            code.get(floor),
            doc.get(floor)
        );
    }
}

/// The workspace crates a crate's manifest names.
fn crate_deps(dir: &str) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).expect("manifest");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .map(|d| d.split("\n[").next().unwrap_or_default())
        .unwrap_or_default();
    deps.lines()
        .filter_map(|l| l.split(['.', ' ', '=']).next())
        .filter(|n| n.starts_with("axle-"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_crates_stand_on_each_other_as_drawn() {
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(crate_deps("wire"), set(&["axle-proto"]));
    assert_eq!(crate_deps("sdk-module"), set(&["axle-proto", "axle-wire"]));
    assert_eq!(crate_deps("rendezvous"), set(&["axle-proto", "axle-wire"]));
    assert_eq!(
        crate_deps("runtime"),
        set(&[
            "axle-proto",
            "axle-wire",
            "axle-sdk-module",
            "axle-rendezvous"
        ])
    );
}
