//! Weights of the SDK pallets this runtime sets, measured on this runtime by
//! `benchmarks/generate-weights.sh` (the project pallets keep theirs in `pallets/*/src/weights.rs`),
//! with the fixed costs of a block and of an extrinsic; transaction payment and GRANDPA keep the
//! SDK's own. The database's costs are measured by `benchmarks/storage.sh`.

pub mod block_weights;
pub mod extrinsic_weights;
pub mod frame_system;
pub mod pallet_assets;
pub mod pallet_balances;
pub mod pallet_sudo;
pub mod pallet_timestamp;
pub mod pallet_utility;
pub mod paritydb_weights;
