//! Weights of the SDK pallets this runtime sets, measured on this runtime by
//! `benchmarks/generate-weights.sh` (the project pallets keep theirs in `pallets/*/src/weights.rs`).
//! Transaction payment and GRANDPA keep the SDK's own.

pub mod frame_system;
pub mod pallet_assets;
pub mod pallet_balances;
pub mod pallet_sudo;
pub mod pallet_timestamp;
pub mod pallet_utility;
