//! Runtime API of the liquidation pallet, callable as `api.call.liquidationApi.*` from
//! polkadot.js.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_liquidation::{
	AdlTarget, AdlView, AuctionParams, AuctionView, BreakerLevel, FundView, Step,
};

sp_api::decl_runtime_apis! {
	/// Read access to liquidations in progress and to come.
	pub trait LiquidationApi<AccountId, BlockNumber> where AccountId: Codec, BlockNumber: Codec {
		/// Up to `limit` accounts liquidatable now (what the offchain workers would submit).
		fn candidates(limit: u32) -> Vec<AccountId>;
		/// The waterfall `who` would go through at current prices (position closes, auctions,
		/// shortfall), or `None` when it is not liquidatable.
		fn path(who: AccountId) -> Option<Vec<Step>>;
		/// The open collateral auctions with their current prices.
		fn auctions() -> Vec<AuctionView<AccountId, BlockNumber>>;
		/// The insurance fund: account, cash and payouts this block.
		fn insurance_fund() -> FundView<AccountId>;
		/// The circuit-breaker level.
		fn breaker() -> BreakerLevel;
		/// The auction curve and keeper rules.
		fn auction_params() -> AuctionParams<BlockNumber>;
		/// The vault's socialized loss, the auto-deleveraging threshold, and, of the first `limit`
		/// positions in deleveraging order (best PnL% first), those it would close now.
		fn deleveraging(limit: u32) -> AdlView<AccountId>;
	}
}
