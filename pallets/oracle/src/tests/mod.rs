//! Tests of the oracle pallet, by topic.

use perp_primitives::Price;

mod feeds;
mod offchain;

/// `n` as a price.
fn p(n: u32) -> Price {
	Price::from_u32(n)
}
