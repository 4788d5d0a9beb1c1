//! Runtime API of the margin pallet, callable as `api.call.marginApi.*` from polkadot.js.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_margin::{AccountSummary, MarketView};

sp_api::decl_runtime_apis! {
	/// Read access to margin accounts and markets.
	pub trait MarginApi<AccountId> where AccountId: Codec {
		/// An account's cash, collateral, positions (with PnL, requirements and liquidation
		/// prices), equity, requirements and health state at the last known prices; `None` for
		/// an account that holds nothing.
		fn account(who: AccountId) -> Option<AccountSummary>;
		/// Every market with its parameters, open interest and price.
		fn markets() -> Vec<MarketView>;
	}
}
