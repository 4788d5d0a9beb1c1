//! A minimal runtime for the liquidation pallet's tests; a recording double plays margin.

use crate as pallet_liquidation;
use frame_support::{derive_impl, parameter_types, traits::ConstU32, PalletId};
use frame_system::{
	offchain::{CreateBare, CreateTransactionBase},
	EnsureRoot,
};
use perp_primitives::{
	Balance, HealthState, MarginInspector, MarginLiquidator, Margins, MarketId, PositionRisk,
	Price, Reduction,
};
use sp_runtime::{BuildStorage, DispatchError, Perbill};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
/// What the offchain worker submits: bare extrinsics.
pub type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Liquidation = pallet_liquidation;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl<C> CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Extrinsic {
		Extrinsic::new_bare(call)
	}
}

/// An account in the margin double: its margins and positions.
#[derive(Clone, Debug, PartialEq)]
pub struct Book {
	pub margins: Margins,
	pub positions: Vec<PositionRisk>,
}

parameter_types! {
	/// The margin double's accounts.
	pub static Books: BTreeMap<u64, Book> = BTreeMap::new();
	/// Accounts whose prices are not fresh: no verdict.
	pub static Unpriced: Vec<u64> = Vec::new();
	/// What `candidates` returns.
	pub static Candidates: Vec<u64> = Vec::new();
	/// Every `reduce_position` call: (who, market, amount, price, penalty, beneficiary).
	pub static Reduced: Vec<(u64, MarketId, Balance, Price, Perbill, u64)> = Vec::new();
}

/// Plays the margin pallet over [`Books`]. A reduction closes `amount` units and scales the
/// position's margins down in proportion; the penalty comes out of equity.
pub struct MarginDouble;

impl MarginInspector<u64> for MarginDouble {
	fn health(who: &u64) -> Option<HealthState> {
		let margins = Self::margins(who)?;
		Some(if margins.equity < 0 {
			HealthState::Bankrupt
		} else if margins.equity.unsigned_abs() < margins.maintenance {
			HealthState::Liquidatable
		} else if margins.equity.unsigned_abs() < margins.initial {
			HealthState::Restricted
		} else {
			HealthState::Healthy
		})
	}
}

impl MarginLiquidator<u64> for MarginDouble {
	fn candidates(limit: u32) -> Vec<u64> {
		Candidates::get().into_iter().take(limit as usize).collect()
	}

	fn margins(who: &u64) -> Option<Margins> {
		if Unpriced::get().contains(who) {
			return None;
		}
		Books::get().get(who).map(|b| b.margins)
	}

	fn exposures(who: &u64) -> Vec<PositionRisk> {
		let mut positions = Books::get().get(who).map(|b| b.positions.clone()).unwrap_or_default();
		positions.sort_by_key(|p| core::cmp::Reverse(p.maintenance));
		positions
	}

	fn reduce_position(
		who: &u64,
		market: MarketId,
		amount: Balance,
		price: Price,
		penalty: Perbill,
		beneficiary: &u64,
	) -> Result<Reduction, DispatchError> {
		Reduced::mutate(|r| r.push((*who, market, amount, price, penalty, *beneficiary)));
		let mut books = Books::get();
		let book = books.get_mut(who).ok_or(DispatchError::Other("no book"))?;
		let position = book
			.positions
			.iter_mut()
			.find(|p| p.market == market)
			.ok_or(DispatchError::Other("no position"))?;
		let held = position.size.unsigned_abs();
		let closed = amount.min(held);
		let share = Perbill::from_rational(closed, held);
		let freed_maintenance = share.mul_floor(position.maintenance);
		book.margins.maintenance -= freed_maintenance;
		book.margins.initial -= (share.mul_floor(book.margins.initial)).min(book.margins.initial);
		let penalty = penalty.mul_ceil(closed);
		book.margins.equity -= penalty as i128;
		position.maintenance -= freed_maintenance;
		let remaining = if position.size > 0 {
			position.size - closed as i128
		} else {
			position.size + closed as i128
		};
		position.size = remaining;
		book.positions.retain(|p| p.size != 0);
		Books::set(books);
		Ok(Reduction { closed, remaining, realized: 0, penalty })
	}

	fn seize_collateral(_: &u64, _: u32, _: Balance, _: &u64) -> sp_runtime::DispatchResult {
		Ok(())
	}

	fn cover_shortfall(_: &u64, _: &u64) -> Result<Balance, DispatchError> {
		Ok(0)
	}
}

parameter_types! {
	pub const FundId: PalletId = PalletId(*b"perp/ins");
	pub const Penalty: Perbill = Perbill::from_percent(1);
	pub const Buffer: Perbill = Perbill::from_percent(10);
	pub const FullBelow: Perbill = Perbill::from_percent(50);
}

pub const PRIORITY: u64 = u64::MAX / 2 + 1;

impl pallet_liquidation::Config for Test {
	type Margin = MarginDouble;
	type EmergencyOrigin = EnsureRoot<u64>;
	type PalletId = FundId;
	type Penalty = Penalty;
	type Buffer = Buffer;
	type FullLiquidationBelow = FullBelow;
	type MaxBatch = ConstU32<3>;
	type UnsignedPriority = frame_support::traits::ConstU64<PRIORITY>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = DoubleBenchmarkHelper;
}

/// Liquidatable accounts in the double: one 100-unit long each, equity below maintenance.
#[cfg(feature = "runtime-benchmarks")]
pub struct DoubleBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for DoubleBenchmarkHelper {
	fn liquidatable_accounts(n: u32) -> Vec<u64> {
		(0..n as u64)
			.map(|i| {
				let who = 1_000 + i;
				book(who, 10, 100, 50, &[(0, 100, 50)]);
				who
			})
			.collect()
	}
	fn healthy_accounts(n: u32) -> Vec<u64> {
		(0..n as u64)
			.map(|i| {
				let who = 2_000 + i;
				book(who, 500, 100, 50, &[(0, 100, 50)]);
				who
			})
			.collect()
	}
}

/// Puts `who` in the double with `equity`, `initial` and `maintenance`, and `positions` of
/// `(market, size, maintenance)` at price 100 with a 2% discount and a 25% partial share.
pub fn book(
	who: u64,
	equity: i128,
	initial: Balance,
	maintenance: Balance,
	positions: &[(MarketId, i128, Balance)],
) {
	let positions = positions
		.iter()
		.map(|&(market, size, maintenance)| PositionRisk {
			market,
			size,
			price: Price::from_u32(100),
			maintenance,
			discount: Perbill::from_percent(2),
			max_partial: Perbill::from_percent(25),
		})
		.collect();
	Books::mutate(|b| {
		b.insert(who, Book { margins: Margins { equity, initial, maintenance }, positions })
	});
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	Books::take();
	Unpriced::take();
	Candidates::take();
	Reduced::take();
	ext
}
