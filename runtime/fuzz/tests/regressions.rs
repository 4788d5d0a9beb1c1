//! Every saved failing sequence (`regressions/*.txt`) replays with no invariant broken: each
//! one broke an invariant on the code it was found on, and stays fixed.

use perpchain_fuzz::campaign;
use std::path::PathBuf;

#[test]
fn every_saved_regression_replays_without_breaking_an_invariant() {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions");
	let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
		.expect("regressions/ exists")
		.map(|entry| entry.expect("a readable entry").path())
		.filter(|path| path.extension().is_some_and(|e| e == "txt"))
		.collect();
	files.sort();
	let mut broken = Vec::new();
	for path in &files {
		let actions = campaign::load(path).expect("a regression file parses");
		if let Err((at, violation)) = campaign::replay(&actions) {
			broken.push(format!("{}: action #{at}: {violation:?}", path.display()));
		}
	}
	assert!(broken.is_empty(), "regressions broken again:\n{}", broken.join("\n"));
}
