//! Tests of the margin pallet, by topic.

use crate::mock::*;
use frame_support::assert_ok;
use perp_primitives::{Balance, Price};

mod collateral;
mod index;
mod liquidator;
mod markets;
mod risk;
mod trading;

/// `n` as a price.
fn p(n: u32) -> Price {
	Price::from_u32(n)
}

/// `n` whole USD in smallest units.
fn usd(n: Balance) -> Balance {
	n * USD_UNIT
}

/// `who` deposits `amount` of `asset`.
fn deposit(who: u64, asset: u32, amount: Balance) {
	assert_ok!(Margin::deposit(RuntimeOrigin::signed(who), asset, amount));
}

/// `who` trades `delta` in BTC-PERP.
fn trade(who: u64, delta: i128) -> sp_runtime::DispatchResult {
	Margin::trade(RuntimeOrigin::signed(who), BTC_PERP, delta)
}

/// `who`'s USD cash in the margin account.
fn cash(who: u64) -> i128 {
	crate::Accounts::<Test>::get(who).map_or(0, |a| a.cash)
}
