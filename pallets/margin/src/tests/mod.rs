//! Tests of the margin pallet, by topic.

use crate::mock::*;
use frame_support::assert_ok;
use perp_primitives::{Balance, Price};

mod collateral;
mod index;
mod liquidator;
mod markets;
mod migrations;
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

/// `who`'s holding of collateral `asset`, `None` when it holds none.
fn held(who: u64, asset: u32) -> Option<Balance> {
	crate::Accounts::<Test>::get(who)
		.map(|a| a.holding(asset))
		.filter(|amount| *amount > 0)
}

/// Sets `who`'s holding of `asset` in its record, bypassing the books (to break invariants).
fn force_holding(who: u64, asset: u32, amount: Balance) {
	crate::Accounts::<Test>::mutate(who, |slot| {
		let mut account = slot.take().unwrap_or_default();
		account.set_holding(asset, amount).expect("room");
		*slot = (!account.is_empty()).then_some(account);
	});
}
