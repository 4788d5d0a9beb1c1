//! The perpchain node: Aura block production, GRANDPA finality, ParityDB storage, and offchain
//! workers (with HTTP) that run the runtime's liquidation discovery.

// The node's functions return the SDK's error types (`sc_cli::Error`, `sc_service::Error`),
// whose size is the SDK's choice; boxing them at every call would only add noise.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() {
	// Misuse (unknown chain, port in use, unreadable base path) ends with one line on stderr
	// and a non-zero exit code, not a backtrace.
	if let Err(error) = command::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
