//! The perpchain node: Aura block production, GRANDPA finality, ParityDB storage, and offchain
//! workers (with HTTP) that run the runtime's liquidation discovery.

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
