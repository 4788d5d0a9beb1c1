//! Tests of the liquidation pallet, by topic, over the margin double of `mock.rs`.

use crate::{mock::*, types::ClosedPosition, AccountsOf, BreakerLevel, Call, Error, Event, Pallet};
use codec::Decode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays},
	pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
	traits::UnfilteredDispatchable,
};
use perp_primitives::{HealthState, Price, PriceStatus};
use sp_core::offchain::{
	testing::TestTransactionPoolExt, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_runtime::{
	traits::{ExtrinsicLike, Saturating},
	DispatchError, FixedU128, Perbill,
};

fn batch(accounts: &[u64]) -> AccountsOf<Test> {
	AccountsOf::<Test>::try_from(accounts.to_vec()).expect("within MaxBatch")
}

fn liquidate(
	accounts: &[u64],
) -> sp_runtime::DispatchResultWithInfo<frame_support::dispatch::PostDispatchInfo> {
	Liquidation::liquidate(RuntimeOrigin::none(), batch(accounts))
}

fn fund() -> u64 {
	Pallet::<Test>::insurance_fund()
}

/// A close as a `Liquidated` event tells it, in the double (which realizes nothing).
fn close(
	market: perp_primitives::MarketId,
	closed: i128,
	price: u32,
	penalty: u128,
) -> ClosedPosition {
	ClosedPosition { market, closed, price: Price::from_u32(price), realized: 0, penalty }
}

const OWNER: u64 = 10;
const TAKER: u64 = 11;
const KEEPER: u64 = 12;

/// `n` whole USD.
fn usd(n: u128) -> u128 {
	n * USD_UNIT
}

/// `n` hundredths of a DOT.
fn centi_dot(n: u128) -> u128 {
	n * DOT_UNIT / 100
}

/// OWNER: no position left, `debt` USD of debt and `dot` whole DOT at 5 USD; the fund holds
/// 1,000 USD and TAKER 10,000.
fn indebted(debt: u128, dot: u128) {
	book(OWNER, -10, 0, 0, &[]);
	set_cash(OWNER, -(usd(debt) as i128));
	set_holding(OWNER, DOT, dot * DOT_UNIT);
	set_price(DOT, Price::from_u32(5), PriceStatus::Fresh);
	set_cash(fund(), usd(1_000) as i128);
	set_cash(TAKER, usd(10_000) as i128);
}

fn take(amount: u128, max_price: Price) -> sp_runtime::DispatchResult {
	take_weighed(amount, max_price).map(|_| ())
}

/// A take, with the weight it reports.
fn take_weighed(
	amount: u128,
	max_price: Price,
) -> Result<frame_support::weights::Weight, DispatchError> {
	let info = Liquidation::take(RuntimeOrigin::signed(TAKER), 0, amount, max_price)
		.map_err(|e| e.error)?;
	Ok(info.actual_weight.expect("a take reports its weight"))
}

fn at_block(n: u64) {
	System::set_block_number(n);
}

/// The accounts of the `liquidate` batches in the pool, in order; empties the pool.
fn drain_submitted(
	pool_state: &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) -> Vec<u64> {
	drain_batches(pool_state).concat()
}

/// The accounts of each `liquidate` batch in the pool, batch by batch; empties it.
fn drain_batches(
	pool_state: &std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) -> Vec<Vec<u64>> {
	pool_state
		.write()
		.transactions
		.drain(..)
		.map(|raw| match Extrinsic::decode(&mut &raw[..]).unwrap().function {
			RuntimeCall::Liquidation(Call::liquidate { accounts }) => accounts.to_vec(),
			other => panic!("unexpected call {other:?}"),
		})
		.collect()
}

/// A test externality with offchain storage and a transaction pool, and the pool's state.
fn offchain_ext() -> (
	sp_io::TestExternalities,
	std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>,
) {
	let mut ext = new_test_ext();
	let (offchain, _state) = sp_core::offchain::testing::TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	(ext, pool_state)
}

mod adl;
mod auctions;
mod gate;
mod keeper;
mod waterfall;
mod worker;
