//! The gateway's and the AI crate's modules import each other without
//! cycles: a module depends on the modules it uses, never on one that uses
//! it back, so each file can be read (and changed) knowing only what it
//! imports.
//!
//! The graph is read from the sources: a node per file module, an edge per
//! `crate::…` or `super::…` path that names another file module (or an item
//! the crate root re-exports from one). Code after a file's first
//! `#[cfg(test)]` is left out (tests may use anything), as are edges to a
//! module's own ancestors (a child naming its parent's items is how Rust
//! nests namespaces, not a dependency between peers) and the crate root,
//! which declares every module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's file modules (path like `grpc::convert` → source before its
/// tests) and the root's re-exports (item → module defining it).
struct CrateSource {
    modules: BTreeMap<String, String>,
    reexports: BTreeMap<String, String>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `src/grpc/convert.rs` → `grpc::convert`, `src/grpc/mod.rs` → `grpc`, `src/lib.rs` → ``.
fn module_path(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// The code a file ships: comments dropped, tests cut off.
fn shipped_code(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    code
}

fn load(crate_dir: &str) -> CrateSource {
    let src = workspace_root().join(crate_dir).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules = BTreeMap::new();
    for file in files {
        modules.insert(module_path(&src, &file), shipped_code(&std::fs::read_to_string(&file).unwrap()));
    }
    let mut reexports = BTreeMap::new();
    for line in modules[""].lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        for path in use_tree(&[], rest.trim_end_matches(';')) {
            if path.len() >= 2 && modules.contains_key(&path[0]) {
                reexports.insert(path[path.len() - 1].clone(), path[0].clone());
            }
        }
    }
    CrateSource { modules, reexports }
}

/// Expands a use tree (`a::{b, c::d}`) after `prefix` into full paths.
fn use_tree(prefix: &[String], text: &str) -> Vec<Vec<String>> {
    let text = text.trim();
    let mut path = prefix.to_vec();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..matching_brace(group)];
            return split_top_level(inner).into_iter().flat_map(|part| use_tree(&path, part)).collect();
        }
        let end = rest.find("::").unwrap_or(rest.len());
        let segment: String = rest[..end].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if segment.is_empty() {
            return vec![path];
        }
        if segment != "self" {
            path.push(segment.clone());
        }
        if end == rest.len() || rest[..end].trim() != segment {
            return vec![path];
        }
        rest = &rest[end + 2..];
    }
}

/// The index of the `}` closing a group whose `{` was just stripped.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The file module a path names: its longest prefix that is one, else the
/// module a root re-export comes from.
fn resolve(source: &CrateSource, path: &[String]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| source.modules.contains_key(m))
        .or_else(|| path.first().and_then(|item| source.reexports.get(item).cloned()))
}

fn is_ancestor(ancestor: &str, module: &str) -> bool {
    ancestor.is_empty() || module.starts_with(&format!("{ancestor}::"))
}

fn graph(source: &CrateSource) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, code) in source.modules.iter().filter(|(m, _)| !m.is_empty()) {
        let mut parent: Vec<String> = module.split("::").map(str::to_owned).collect();
        parent.pop();
        let mut targets = BTreeSet::new();
        for (keyword, base) in [("crate::", Vec::new()), ("super::", parent)] {
            for (at, _) in code.match_indices(keyword) {
                let preceded_by_ident = code[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
                if preceded_by_ident {
                    continue;
                }
                for path in use_tree(&base, &code[at + keyword.len()..]) {
                    if let Some(target) = resolve(source, &path)
                        && target != *module
                        && !is_ancestor(&target, module)
                    {
                        targets.insert(target);
                    }
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_a_cycle_through_grouped_and_relative_imports() {
    let modules = [
        ("", "pub use views::View;\n"),
        ("a", "use crate::{b::{self, Thing}, c};\n"),
        ("b", "use crate::View;\n"),
        ("views", "use super::a::X;\n#[cfg(test)]\nmod tests { use crate::c; }\n"),
        ("c", "use crate::b;\n"),
    ];
    let mut source = CrateSource { modules: BTreeMap::new(), reexports: BTreeMap::new() };
    for (name, code) in modules {
        source.modules.insert(name.to_owned(), shipped_code(code));
    }
    source.reexports.insert("View".into(), "views".into());
    let graph = graph(&source);
    assert_eq!(graph["a"], BTreeSet::from(["b".to_owned(), "c".to_owned()]));
    assert_eq!(graph["b"], BTreeSet::from(["views".to_owned()]), "a root re-export is an edge to its module");
    assert_eq!(graph["views"], BTreeSet::from(["a".to_owned()]), "tests are left out");
    assert_eq!(find_cycle(&graph), Some(vec!["a".into(), "b".into(), "views".into(), "a".into()]));
}

#[test]
fn the_gateways_modules_import_each_other_without_cycles() {
    let source = load("services/gateway");
    assert!(source.modules.len() > 10, "read the gateway's modules: {:?}", source.modules.keys());
    assert_eq!(find_cycle(&graph(&source)), None);
}

#[test]
fn the_ai_crates_modules_import_each_other_without_cycles() {
    let source = load("shared/ai");
    assert!(source.modules.len() > 5, "read the AI crate's modules: {:?}", source.modules.keys());
    assert_eq!(find_cycle(&graph(&source)), None);
}
