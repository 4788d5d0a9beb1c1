//! Runtime API of the oracle pallet, callable as `api.call.oracleApi.*` from polkadot.js.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_perp_oracle::{AssetView, OracleParams, RawValueView};
use perp_primitives::AssetId;

sp_api::decl_runtime_apis! {
	/// Read access to the oracle's state.
	pub trait OracleApi<AccountId> where AccountId: Codec {
		/// Every listed asset: price with status (`Fresh`, `Stale`, `Frozen`, `Missing`),
		/// index price, annualized volatility and the number of feeders behind the price.
		fn prices() -> Vec<AssetView>;
		/// The feeders' current values for `asset`, each marked fresh or not.
		fn raw_values(asset: AssetId) -> Vec<RawValueView<AccountId>>;
		/// The aggregation parameters in force.
		fn params() -> OracleParams;
	}
}
