//! What the fuzzer does, one action at a time, and the text form in which a failing sequence
//! is saved under `regressions/` and replayed by `cargo test`.
//!
//! One line per action; `#` starts a comment (the fuzzer writes the decoded call there):
//!
//! ```text
//! block 6000 worker      # end the block; the next starts 6,000 ms later; the worker runs
//! block 60000            # the same, with no offchain worker (validators offline)
//! block 6000 worker congested 900  # the next block opens congested (see `NextBlock`)
//! signed 4 0x1502...     # a signed extrinsic from signer 4 (see `actors`), call SCALE-encoded
//! bare 0x1601...         # a bare (unsigned) extrinsic, as a peer or a block author sends it
//! ```

use codec::{Decode, Encode};
use perpchain_runtime::RuntimeCall;

/// One step of a campaign.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
	/// Finish the block being built and start the next one `advance_ms` later. With `worker`,
	/// the validators' offchain worker runs on the finished block, and what it submits and the
	/// pool accepts goes first into the next block. With `congestion` (per mille, 0 for none),
	/// the next block opens as a congested one would reach its liquidations: the normal class
	/// full, and that share of what liquidations may fill of the operational class taken.
	NextBlock { advance_ms: u64, worker: bool, congestion: u16 },
	/// A signed extrinsic from signer `signer`, through every transaction check.
	Signed { signer: u8, call: RuntimeCall },
	/// A bare extrinsic: the pool's verdict is recorded, then it is applied as a block author
	/// who ignores the pool would include it.
	Bare { call: RuntimeCall },
}

impl Action {
	/// The end of a campaign's or a replay's last block, so that it is checked too.
	pub const LAST_BLOCK: Action =
		Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 };

	/// Whether the action is a call (not the end of a block).
	pub fn is_call(&self) -> bool {
		!matches!(self, Action::NextBlock { .. })
	}

	/// The action as one line of a regression file.
	pub fn to_line(&self) -> String {
		match self {
			Action::NextBlock { advance_ms, worker, congestion } => format!(
				"block {advance_ms}{}{}",
				if *worker { " worker" } else { "" },
				if *congestion > 0 { format!(" congested {congestion}") } else { String::new() }
			),
			Action::Signed { signer, call } => format!(
				"signed {signer} 0x{}  # {}: {}",
				hex(&call.encode()),
				crate::actors::name(*signer),
				describe(call)
			),
			Action::Bare { call } => {
				format!("bare 0x{}  # {}", hex(&call.encode()), describe(call))
			},
		}
	}

	/// Parses one line of a regression file; `Ok(None)` for a blank or comment line.
	pub fn parse(line: &str) -> Result<Option<Action>, String> {
		let line = line.split('#').next().unwrap_or_default().trim();
		let words: Vec<&str> = line.split_whitespace().collect();
		let call = |word: &str| -> Result<RuntimeCall, String> {
			let bytes = unhex(word.strip_prefix("0x").ok_or("a call starts with 0x")?)?;
			RuntimeCall::decode(&mut &bytes[..]).map_err(|e| format!("undecodable call: {e}"))
		};
		match words.as_slice() {
			[] => Ok(None),
			["block", ms, rest @ ..] => {
				let (worker, rest) = match rest {
					["worker", rest @ ..] => (true, rest),
					rest => (false, rest),
				};
				let congestion = match rest {
					[] => 0,
					["congested", permille] => number(permille)?,
					_ => return Err(format!("not an action: {line:?}")),
				};
				Ok(Some(Action::NextBlock { advance_ms: number(ms)?, worker, congestion }))
			},
			["signed", signer, encoded] => {
				Ok(Some(Action::Signed { signer: number(signer)?, call: call(encoded)? }))
			},
			["bare", encoded] => Ok(Some(Action::Bare { call: call(encoded)? })),
			_ => Err(format!("not an action: {line:?}")),
		}
	}
}

/// Parses a regression file: its actions in order.
pub fn parse_all(text: &str) -> Result<Vec<Action>, String> {
	let mut actions = Vec::new();
	for (n, line) in text.lines().enumerate() {
		if let Some(action) = Action::parse(line).map_err(|e| format!("line {}: {e}", n + 1))? {
			actions.push(action);
		}
	}
	Ok(actions)
}

/// A call's `Debug` form on one line, cut to a readable length.
pub fn describe(call: &RuntimeCall) -> String {
	let text: String = format!("{call:?}").split_whitespace().collect::<Vec<_>>().join(" ");
	if text.chars().count() > 160 {
		format!("{}…", text.chars().take(160).collect::<String>())
	} else {
		text
	}
}

fn number<N: std::str::FromStr>(word: &str) -> Result<N, String> {
	word.parse().map_err(|_| format!("not a number: {word}"))
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
	if !text.len().is_multiple_of(2) {
		return Err("odd number of hex digits".into());
	}
	(0..text.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| "not hex".to_string()))
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_action_survives_its_text_form() {
		let actions = vec![
			Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 0 },
			Action::NextBlock { advance_ms: 120_000, worker: false, congestion: 0 },
			Action::NextBlock { advance_ms: 6_000, worker: true, congestion: 1_000 },
			Action::NextBlock { advance_ms: 6_000, worker: false, congestion: 5 },
			Action::Signed {
				signer: 4,
				call: RuntimeCall::Margin(pallet_margin::Call::trade { market: 1, delta: -7 }),
			},
			Action::Bare {
				call: RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
					accounts: vec![crate::actors::account(3)].try_into().unwrap(),
				}),
			},
		];
		let text: String = actions.iter().map(|a| a.to_line() + "\n").collect();
		assert_eq!(parse_all(&text).unwrap(), actions);
	}

	#[test]
	fn a_malformed_line_is_an_error_naming_it() {
		assert!(parse_all("block 6000\nsigned x 0x00\n").unwrap_err().starts_with("line 2"));
		assert!(parse_all("bare 0xzz").is_err());
		assert!(parse_all("block 6000 congested").is_err());
		assert!(parse_all("block 6000 congested 9 worker").is_err());
		assert!(parse_all("bare 0xff").is_err());
		assert_eq!(parse_all("# only a comment\n\n").unwrap(), vec![]);
	}
}
