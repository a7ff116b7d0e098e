//! The server's modules form layers, never circles: transport -> routing -> handlers -> use
//! cases -> storage. This test reads every `crate::module` a source file names and fails on the
//! first cycle it finds, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module a file belongs to: its first path component under `src/`, without `.rs`.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("the server's src directory is readable");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module each module names with `crate::`, itself left out.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let from = module_of(relative);
        if from == "main" || from == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        // Comments may name any module; only code depends on one.
        let text: String = source
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let targets = edges.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `use crate::{a, b}` names several.
            let named: Vec<String> = match name.is_empty() && rest.starts_with('{') {
                true => rest[1..rest.find('}').unwrap_or(1)]
                    .split(',')
                    .map(|part| {
                        part.trim()
                            .split("::")
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect(),
                false => vec![name],
            };
            for target in named {
                if !target.is_empty() && target != from {
                    targets.insert(target);
                }
            }
        }
    }
    edges
}

/// A cycle through the graph, if there is one, as the modules in order.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn the_server_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    if let Some(cycle) = find_cycle(&edges) {
        panic!("the server's modules form a cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_cycle_check_finds_a_cycle_and_passes_layers() {
    let edges = |pairs: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        g
    };
    assert_eq!(
        find_cycle(&edges(&[
            ("http", "api"),
            ("api", "handler"),
            ("http", "handler")
        ])),
        None
    );
    assert_eq!(
        find_cycle(&edges(&[("http", "api"), ("api", "http")])),
        Some(vec!["api".to_owned(), "http".to_owned(), "api".to_owned()])
    );
    // The real graph names the layers it should: api stands on handler, not on http.
    let real = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(real["api"].contains("handler"), "{:?}", real["api"]);
    assert!(!real["api"].contains("http"), "{:?}", real["api"]);
}
