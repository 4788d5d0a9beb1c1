//! A minimal runtime for the liquidation pallet's tests; a recording double plays margin.

use crate as pallet_liquidation;
use crate::AuctionParams;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32},
	PalletId,
};
use frame_system::{
	offchain::{CreateBare, CreateTransactionBase},
	EnsureRoot,
};
use perp_primitives::{
	AccountRisk, AssetId, Balance, Close, CollateralRisk, HealthState, MarginLiquidator,
	MarginReader, Margins, MarketId, PositionRisk, Price, PriceInfo, PriceProvider, PriceStats,
	PriceStatus, Ranked, Reduction,
};
use sp_runtime::{BuildStorage, DispatchError, Perbill, Rounding};
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
	type BlockWeights = TestBlockWeights;
}

/// The default block weights, with the operational class's reserved share set by
/// `ReservedShare` when it is `Some`.
pub struct TestBlockWeights;
impl frame_support::traits::Get<frame_system::limits::BlockWeights> for TestBlockWeights {
	fn get() -> frame_system::limits::BlockWeights {
		let mut weights = frame_system::limits::BlockWeights::default();
		if let Some(share) = ReservedShare::get() {
			weights
				.per_class
				.get_mut(frame_support::dispatch::DispatchClass::Operational)
				.reserved = Some(share);
		}
		weights
	}
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

/// DOT in the double: 10 decimals.
pub const DOT: AssetId = 4;
pub const DOT_UNIT: Balance = 10_000_000_000;
/// USD in the double: 6 decimals.
pub const USD_UNIT: Balance = 1_000_000;

parameter_types! {
	/// The operational class's reserved share of a block, if not the default.
	pub static ReservedShare: Option<frame_support::weights::Weight> = None;
	/// The margin double's accounts.
	pub static Books: BTreeMap<u64, Book> = BTreeMap::new();
	/// Accounts whose prices are not fresh: no verdict.
	pub static Unpriced: Vec<u64> = Vec::new();
	/// The close factor (`max_partial`) of the positions `book` creates.
	pub static CloseFactor: Perbill = Perbill::from_percent(25);
	/// Accounts margin reports in a liquidation under way.
	pub static InLiquidation: Vec<u64> = Vec::new();
	/// What `candidates` returns.
	pub static Candidates: Vec<u64> = Vec::new();
	/// Every `reduce_position` call: (who, market, amount, price, penalty, beneficiary).
	pub static Reduced: Vec<(u64, MarketId, Balance, Price, Perbill, u64)> = Vec::new();
	/// USD cash per account (the double keeps it apart from `Books`' equity).
	pub static Cash: BTreeMap<u64, i128> = BTreeMap::new();
	/// Collateral per (account, asset).
	pub static Holdings: BTreeMap<(u64, AssetId), Balance> = BTreeMap::new();
	/// Open collateral auctions per account, as margin counts them.
	pub static AuctionCounts: BTreeMap<u64, u32> = BTreeMap::new();
	/// Oracle prices with their status.
	pub static Prices: BTreeMap<AssetId, (Price, PriceStatus)> = BTreeMap::new();
	/// What the vault absorbed.
	pub static Absorbed: Balance = 0;
	/// Accounts whose `reduce_position` fails.
	pub static Failing: Vec<u64> = Vec::new();
	/// The most notional liquidated per market and block.
	pub static NotionalCap: Balance = Balance::MAX;
	/// Every account re-indexed (once per `reduce_positions`).
	pub static Reindexed: Vec<u64> = Vec::new();
	/// The socialized loss the vault carries before auto-deleveraging.
	pub static AdlThreshold: Balance = 50 * USD_UNIT;
	/// Stale entries of the profit order: (market, long, entry, holder), ranked with the
	/// booked positions until pruned.
	pub static StaleEntries: Vec<(MarketId, bool, Price, u64)> = Vec::new();
}

/// The oracle double over [`Prices`].
pub struct PriceTable;
impl PriceProvider for PriceTable {
	fn price(asset: AssetId) -> PriceInfo {
		Prices::get()
			.get(&asset)
			.map_or(PriceInfo::missing(), |&(price, status)| PriceInfo {
				price,
				updated_at: 0,
				status,
			})
	}
	fn stats(_: AssetId) -> Option<PriceStats> {
		None
	}
}

/// Sets `asset`'s price with a status.
pub fn set_price(asset: AssetId, price: Price, status: PriceStatus) {
	Prices::mutate(|p| p.insert(asset, (price, status)));
}

/// `who`'s cash in the double.
pub fn cash(who: u64) -> i128 {
	Cash::get().get(&who).copied().unwrap_or_default()
}

/// Sets `who`'s cash in the double.
pub fn set_cash(who: u64, amount: i128) {
	Cash::mutate(|c| c.insert(who, amount));
}

/// `who`'s holding of `asset` in the double.
pub fn holding(who: u64, asset: AssetId) -> Balance {
	Holdings::get().get(&(who, asset)).copied().unwrap_or_default()
}

/// Sets `who`'s holding of `asset`.
pub fn set_holding(who: u64, asset: AssetId, amount: Balance) {
	Holdings::mutate(|h| h.insert((who, asset), amount));
}

/// The sum of every account's cash and the vault's absorbed losses: what the double conserves.
pub fn total_usd() -> i128 {
	Cash::get().values().sum::<i128>() - Absorbed::get() as i128
}

/// Plays the margin pallet over [`Books`]. A reduction closes `amount` units and scales the
/// position's margins down in proportion; the penalty comes out of equity.
pub struct MarginDouble;

impl MarginDouble {
	/// The health of a booked account, without a verdict on unpriced ones.
	pub fn health(who: &u64) -> Option<HealthState> {
		Self::margins(who).map(|margins| margins.state())
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

	fn collaterals(who: &u64) -> Vec<CollateralRisk> {
		Holdings::get()
			.into_iter()
			.filter(|((owner, _), amount)| owner == who && *amount > 0)
			.filter_map(|((_, asset), amount)| {
				let price = PriceTable::price(asset).fresh()?;
				Some(CollateralRisk { asset, amount, unit: DOT_UNIT, price })
			})
			.collect()
	}

	/// One close: `amount` units and the position's margins, PnL and cost scaled down in
	/// proportion; the penalty comes out of equity.
	fn reduce_one(
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
		// The closed part's profit leaves equity with it (the double realizes nothing).
		let given_up = share.mul_floor(position.pnl.max(0) as u128) as i128;
		position.pnl -= given_up;
		position.cost -= share.mul_floor(position.cost);
		book.margins.equity -= given_up;
		book.margins.maintenance -= freed_maintenance;
		let freed_initial = share.mul_floor(position.initial);
		position.initial -= freed_initial;
		book.margins.initial -= freed_initial.min(book.margins.initial);
		let penalty = penalty.mul_ceil(closed);
		book.margins.equity -= penalty as i128;
		set_cash(*who, cash(*who) - penalty as i128);
		set_cash(*beneficiary, cash(*beneficiary) + penalty as i128);
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
}

impl MarginReader<u64> for MarginDouble {
	type Quotes = ();

	fn candidates(limit: u32) -> Vec<u64> {
		Candidates::get().into_iter().take(limit as usize).collect()
	}

	fn risk(who: &u64, _: &mut ()) -> Option<AccountRisk> {
		let unpriced_collateral = Holdings::get().into_iter().any(|((owner, asset), amount)| {
			owner == *who && amount > 0 && PriceTable::price(asset).fresh().is_none()
		});
		Some(AccountRisk {
			margins: Self::margins(who)?,
			cash: cash(*who),
			positions: Self::exposures(who),
			collateral: Self::collaterals(who),
			unpriced_collateral,
			open_auctions: Self::open_auctions(who),
			in_liquidation: InLiquidation::get().contains(who),
		})
	}

	fn open_auctions(who: &u64) -> u32 {
		AuctionCounts::get().get(who).copied().unwrap_or(0)
	}

	fn auction_counts() -> Vec<(u64, u32)> {
		AuctionCounts::get().into_iter().collect()
	}

	/// Every market a booked position is in, at that position's price.
	fn market_prices() -> Vec<(MarketId, Option<Price>)> {
		let mut prices = BTreeMap::new();
		for book in Books::get().values() {
			for p in &book.positions {
				prices.entry(p.market).or_insert(Some(p.price));
			}
		}
		prices.into_iter().collect()
	}

	/// The booked positions by entry price (from their cost), as margin orders them, with the
	/// stale entries; ties by account.
	fn ranked_after(
		market: MarketId,
		long: bool,
		after: Option<&(Price, u64)>,
	) -> Option<Ranked<u64>> {
		let key = |entry: Price, who: u64| {
			let inner = entry.into_inner();
			(if long { inner } else { u128::MAX - inner }, who)
		};
		let mut order: Vec<_> = Books::get()
			.into_iter()
			.flat_map(|(who, book)| book.positions.into_iter().map(move |p| (who, p)))
			.filter(|(_, p)| p.market == market && p.size != 0 && (p.size > 0) == long)
			.map(|(who, p)| {
				let entry = perp_primitives::entry_price(
					p.cost,
					p.size.unsigned_abs(),
					p.unit,
					USD_UNIT,
					Rounding::NearestPrefUp,
				)
				.unwrap_or(Price::from_inner(u128::MAX));
				Ranked { entry, who, live: true }
			})
			.collect();
		order.extend(
			StaleEntries::get()
				.into_iter()
				.filter(|(m, l, ..)| *m == market && *l == long)
				.map(|(_, _, entry, who)| Ranked { entry, who, live: false }),
		);
		order.sort_by_key(|r| key(r.entry, r.who));
		let after = after.map(|(entry, who)| key(*entry, *who));
		order.into_iter().find(|r| after.is_none_or(|a| key(r.entry, r.who) > a))
	}

	fn cash(who: &u64) -> i128 {
		cash(*who)
	}

	fn collateral(who: &u64, asset: AssetId) -> Balance {
		holding(*who, asset)
	}

	fn settlement_unit() -> Balance {
		USD_UNIT
	}

	fn max_positions() -> u32 {
		8
	}
}

impl MarginLiquidator<u64> for MarginDouble {
	fn prune_ranked(market: MarketId, long: bool, entry: Price, who: &u64) -> bool {
		let mut stale = StaleEntries::get();
		let before = stale.len();
		stale.retain(|e| *e != (market, long, entry, *who));
		let pruned = stale.len() < before;
		StaleEntries::set(stale);
		pruned
	}

	fn reduce_positions(
		who: &u64,
		closes: &[Close],
		penalty: Perbill,
		beneficiary: &u64,
		_: &mut (),
	) -> Result<perp_primitives::Reduced, DispatchError> {
		if Failing::get().contains(who) {
			return Err(DispatchError::Unavailable);
		}
		let mut reductions = Vec::new();
		for &Close { market, amount, price } in closes {
			reductions.push(Self::reduce_one(who, market, amount, price, penalty, beneficiary)?);
		}
		Reindexed::mutate(|r| r.push(*who));
		Ok(perp_primitives::Reduced { reductions, after: Self::risk(who, &mut ()) })
	}

	fn auction_collateral(
		who: &u64,
		asset: AssetId,
		amount: Balance,
		holder: &u64,
	) -> sp_runtime::DispatchResult {
		Self::seize_collateral(who, asset, amount, holder)?;
		AuctionCounts::mutate(|counts| *counts.entry(*who).or_default() += 1);
		Ok(())
	}

	fn auction_closed(owner: &u64) -> Result<u32, DispatchError> {
		let mut counts = AuctionCounts::get();
		let open = counts.get(owner).copied().unwrap_or(0);
		let left = open.checked_sub(1).ok_or(DispatchError::Other("no open auction"))?;
		if left == 0 {
			counts.remove(owner);
		} else {
			counts.insert(*owner, left);
		}
		AuctionCounts::set(counts);
		Ok(left)
	}

	fn seize_collateral(
		who: &u64,
		asset: AssetId,
		amount: Balance,
		to: &u64,
	) -> sp_runtime::DispatchResult {
		let left = holding(*who, asset).checked_sub(amount).ok_or(DispatchError::Other("short"))?;
		set_holding(*who, asset, left);
		set_holding(*to, asset, holding(*to, asset) + amount);
		Ok(())
	}

	fn cover_shortfall(who: &u64, from: &u64, limit: Balance) -> Result<Balance, DispatchError> {
		let debt = cash(*who).min(0).unsigned_abs();
		let covered = debt.min(cash(*from).max(0).unsigned_abs()).min(limit);
		set_cash(*who, cash(*who) + covered as i128);
		set_cash(*from, cash(*from) - covered as i128);
		Ok(debt - covered)
	}

	fn absorb_shortfall(who: &u64) -> Result<Balance, DispatchError> {
		let debt = cash(*who).min(0).unsigned_abs();
		set_cash(*who, 0);
		Absorbed::mutate(|a| *a += debt);
		Ok(debt)
	}

	fn transfer_cash(from: &u64, to: &u64, amount: Balance) -> sp_runtime::DispatchResult {
		if cash(*from) < amount as i128 {
			return Err(DispatchError::Other("insufficient cash"));
		}
		set_cash(*from, cash(*from) - amount as i128);
		set_cash(*to, cash(*to) + amount as i128);
		Ok(())
	}
}

parameter_types! {
	pub const FundId: PalletId = PalletId(*b"perp/ins");
	pub const Penalty: Perbill = Perbill::from_percent(1);
	pub const Buffer: Perbill = Perbill::from_percent(10);
	pub const FullBelow: Perbill = Perbill::from_percent(50);
	pub const KeeperShare: Perbill = Perbill::from_percent(20);
	/// Start 10% above the oracle, lose 1% a block, restart below half the oracle price or
	/// after 20 blocks; 5 USD tip, 10 USD dust.
	pub const AuctionDefaults: AuctionParams<u64> = AuctionParams {
		start_premium: Perbill::from_percent(10),
		step: Perbill::from_percent(1),
		floor: Perbill::from_percent(50),
		tail: 20,
		tip: 5 * USD_UNIT,
		dust: 10 * USD_UNIT,
	};
}

/// At most 100 USD of insurance payouts a block.
pub const INSURANCE_CAP: Balance = 100 * USD_UNIT;

pub const PRIORITY: u64 = u64::MAX / 2 + 1;

impl pallet_liquidation::Config for Test {
	type Margin = MarginDouble;
	type Prices = PriceTable;
	type EmergencyOrigin = EnsureRoot<u64>;
	type GovernanceOrigin = EnsureRoot<u64>;
	type KeeperShare = KeeperShare;
	type InsuranceCapPerBlock = ConstU128<INSURANCE_CAP>;
	type AdlThreshold = AdlThreshold;
	type MaxAuctions = ConstU32<4>;
	type MaxRestarts = ConstU32<2>;
	type MaxAuctionsPerLiquidation = ConstU32<2>;
	type MaxLiquidatedNotionalPerBlock = NotionalCap;
	type DefaultAuctionParams = AuctionDefaults;
	type PalletId = FundId;
	type Penalty = Penalty;
	type Buffer = Buffer;
	type FullLiquidationBelow = FullBelow;
	type MaxBatch = ConstU32<3>;
	type MaxBatchesPerRun = ConstU32<4>;
	type FeedRoom = ();
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
	fn liquidatable_accounts(n: u32, positions: u32) -> Vec<u64> {
		let positions: Vec<_> = (0..positions).map(|market| (market, 100, 50)).collect();
		(0..n as u64)
			.map(|i| {
				let who = 1_000 + i;
				book(who, 10, 100, 50 * positions.len() as u128, &positions);
				who
			})
			.collect()
	}
	fn max_positions() -> u32 {
		4
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
	fn indebted_account() -> u64 {
		let who = 3_000;
		book(who, -10, 0, 0, &[]);
		set_cash(who, -(1_000 * USD_UNIT as i128));
		set_holding(who, DOT, 1_000 * DOT_UNIT);
		set_price(DOT, Price::from_u32(5), PriceStatus::Fresh);
		who
	}
	fn profitable_positions(n: u32) -> Vec<(u64, MarketId)> {
		(0..n as u64)
			.map(|i| {
				let who = 4_000 + i;
				book(who, 500, 100, 50, &[(0, 100, 50)]);
				// Entry 50 (half the price, a cost of 50 smallest USD units).
				set_pnl(who, 0, 200 * USD_UNIT as i128, 50);
				(who, 0)
			})
			.collect()
	}
	fn fund_cash(who: &u64, amount: Balance) {
		set_cash(*who, cash(*who) + amount as i128);
	}
}

/// Puts `who` in the double with `equity`, `initial` and `maintenance`, and `positions` of
/// `(market, size, maintenance)` at price 100, entered at 100, with a 2% discount and
/// `CloseFactor` as their close factor (25% unless a test sets it). A unit of size is worth
/// one smallest USD unit at 100: the scale at which the double charges its penalty (on the
/// units closed).
pub fn book(
	who: u64,
	equity: i128,
	initial: Balance,
	maintenance: Balance,
	positions: &[(MarketId, i128, Balance)],
) {
	book_in(100 * USD_UNIT, who, equity, initial, maintenance, positions)
}

/// [`book`] with positions whose whole unit is `unit` units of size.
pub fn book_in(
	unit: Balance,
	who: u64,
	equity: i128,
	initial: Balance,
	maintenance: Balance,
	positions: &[(MarketId, i128, Balance)],
) {
	let total_maintenance = maintenance;
	let positions = positions
		.iter()
		.map(|&(market, size, maintenance)| PositionRisk {
			market,
			size,
			unit,
			price: Price::from_u32(100),
			cost: size.unsigned_abs() * 100 * USD_UNIT / unit,
			pnl: 0,
			// The account's initial margin shared out as its maintenance margin is.
			initial: (maintenance * initial).checked_div(total_maintenance).unwrap_or(0),
			maintenance,
			discount: Perbill::from_percent(2),
			max_partial: CloseFactor::get(),
		})
		.collect();
	Books::mutate(|b| {
		b.insert(who, Book { margins: Margins { equity, initial, maintenance }, positions })
	});
}

/// Gives `who`'s position in `market` an entry cost and an unrealized PnL; the PnL counts in
/// its equity.
pub fn set_pnl(who: u64, market: MarketId, pnl: i128, cost: Balance) {
	Books::mutate(|books| {
		let book = books.get_mut(&who).expect("booked");
		let position = book.positions.iter_mut().find(|p| p.market == market).expect("held");
		book.margins.equity += pnl - position.pnl;
		position.pnl = pnl;
		position.cost = cost;
	});
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	Books::take();
	Unpriced::take();
	InLiquidation::take();
	CloseFactor::set(Perbill::from_percent(25));
	Candidates::take();
	Reduced::take();
	Reindexed::take();
	Cash::take();
	Holdings::take();
	AuctionCounts::take();
	Prices::take();
	Absorbed::take();
	Failing::take();
	NotionalCap::set(Balance::MAX);
	AdlThreshold::set(50 * USD_UNIT);
	ext
}

/// Runs `test` in a fresh externality, then checks the pallet's invariants.
pub fn run_test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// The USD and DOT the double holds in all: liquidation only moves them.
pub fn totals() -> (i128, Balance) {
	(total_usd(), Holdings::get().values().sum())
}
