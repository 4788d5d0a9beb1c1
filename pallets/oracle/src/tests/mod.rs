//! Tests of the oracle pallet, by topic.

use perp_primitives::{AssetId, Price};

mod feeds;
mod migrations;
mod offchain;

/// `who`'s stored value of `asset`, if any.
fn raw_value(asset: AssetId, who: u64) -> Option<Price> {
	let values = crate::Assets::<crate::mock::Test>::get(asset).unwrap_or_default();
	values.into_iter().find(|v| v.feeder == who).map(|v| v.value.price)
}

/// `n` as a price.
fn p(n: u32) -> Price {
	Price::from_u32(n)
}
