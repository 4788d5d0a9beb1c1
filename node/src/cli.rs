//! Command-line interface.

/// The node's command line: run a node, or one of the subcommands.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// A JSON file of the price sources this node's offchain worker feeds the oracle from (the
	/// list described in the README's "Validator price feeds"). It is checked, then written to
	/// the node's offchain storage at start, replacing the list stored there: a validator needs
	/// no unsafe RPC method to set its sources. Without the flag the stored list stays.
	#[arg(long, value_name = "FILE")]
	pub price_sources: Option<std::path::PathBuf>,
}

/// The subcommands an operator needs besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (used by zombienet).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a `--chain`.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Benchmarks (a node built with the `benchmark-cli` feature): `benchmark storage` the
	/// database's cost of a read and a write on a chain's state; `benchmark pallet` a pallet's
	/// weights; `benchmark machine` rates the hardware.
	#[cfg(feature = "benchmark-cli")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}
