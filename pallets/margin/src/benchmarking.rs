//! Benchmarks of the margin pallet's calls, each in the worst case of its bounds: an account
//! with `p` positions and `c` collateral assets, every price fresh, every check run.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungibles::Inspect, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use perp_primitives::{AssetId, Balance, MarketId, Price};
use sp_runtime::Perbill;

/// Collateral asset ids used by the benchmarks, clear of the chain's own.
const FIRST_ASSET: AssetId = 1_000;
/// The market asset of every benchmark market: above the collateral ids, so that its band is
/// the last one `refresh` examines.
const MARKET_ASSET: AssetId = 2_000;

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// Market parameters with `MaxTiers` tiers and caps that no benchmark reaches.
fn market_params<T: Config>() -> MarketParamsOf<T> {
	let tiers: alloc::vec::Vec<Tier> = (0..T::MaxTiers::get())
		.map(|i| Tier {
			up_to: (Balance::from(i) + 1) * 1_000_000 * T::SettlementUnit::get(),
			initial: Perbill::from_percent(10 + i),
			maintenance: Perbill::from_percent(5 + i),
		})
		.collect();
	MarketParams {
		asset: MARKET_ASSET,
		unit: 100_000_000,
		tiers: BoundedVec::truncate_from(tiers),
		max_leverage: 10,
		max_open_interest_long: Balance::MAX / 4,
		max_open_interest_short: Balance::MAX / 4,
		trading_fee: Perbill::from_parts(1_000_000),
		liquidation_discount: Perbill::from_percent(2),
		max_partial_liquidation: Perbill::from_percent(25),
		min_notional: 0,
	}
}

/// Lists `c` collateral assets (the custody seeded, prices fresh) and creates `p` markets.
fn setup<T: Config>(p: u32, c: u32) -> alloc::vec::Vec<MarketId> {
	let custody = Pallet::<T>::custody_account();
	// Room for `MaxCollateralAssets` benchmark assets: nobody holds the genesis ones here.
	let _ = CollateralAssets::<T>::clear(u32::MAX, None);
	for i in 0..c {
		let asset = FIRST_ASSET + i;
		T::BenchmarkHelper::fund(asset, &custody, 1_000_000);
		T::BenchmarkHelper::set_price(asset, Price::from_u32(5));
		let params = CollateralParams {
			unit: 10_000_000_000,
			weight: Perbill::from_percent(80),
			min_amount: 0,
		};
		if !CollateralAssets::<T>::contains_key(asset) {
			Pallet::<T>::do_set_collateral(asset, Some(params)).expect("room for c assets");
		}
	}
	T::BenchmarkHelper::set_price(MARKET_ASSET, Price::from_u32(50_000));
	(0..p)
		.map(|_| Pallet::<T>::do_create_market(market_params::<T>()).expect("room"))
		.collect()
}

/// A trader holding `c` collateral assets, plenty of USD, and a position of `size` in each of
/// `markets`.
fn trader<T: Config>(c: u32, markets: &[MarketId], size: i128) -> T::AccountId {
	let who: T::AccountId = whitelisted_caller();
	let settlement = T::SettlementAsset::get();
	let usd = 10_000_000 * T::SettlementUnit::get();
	T::BenchmarkHelper::fund(settlement, &who, 2 * usd);
	Pallet::<T>::do_deposit(who.clone(), settlement, usd).expect("funded");
	for i in 0..c {
		let asset = FIRST_ASSET + i;
		T::BenchmarkHelper::fund(asset, &who, 1_000 * 10_000_000_000);
		Pallet::<T>::do_deposit(who.clone(), asset, 100 * 10_000_000_000).expect("funded");
	}
	for market in markets {
		Pallet::<T>::do_trade(who.clone(), *market, size).expect("margin is ample");
	}
	who
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn deposit() {
		let asset = T::SettlementAsset::get();
		let caller: T::AccountId = whitelisted_caller();
		let amount = 1_000 * T::SettlementUnit::get();
		T::BenchmarkHelper::fund(asset, &caller, amount * 2);
		// The worst case adds to an existing account.
		Pallet::<T>::do_deposit(caller.clone(), asset, amount).expect("funded above");

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, amount);

		assert_eq!(Accounts::<T>::get(&caller).map(|a| a.cash), Some(2 * amount as i128));
	}

	#[benchmark]
	fn withdraw(
		p: Linear<1, { T::MaxPositions::get() }>,
		c: Linear<0, { T::MaxCollateralAssets::get() }>,
	) {
		let markets = setup::<T>(p, c);
		let caller = trader::<T>(c, &markets, 1_000_000);
		let asset = T::SettlementAsset::get();
		let before = T::Assets::balance(asset, &caller);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), asset, 1_000);

		assert_eq!(T::Assets::balance(asset, &caller), before + 1_000);
	}

	#[benchmark]
	fn trade(
		p: Linear<1, { T::MaxPositions::get() }>,
		c: Linear<0, { T::MaxCollateralAssets::get() }>,
	) {
		let markets = setup::<T>(p, c);
		let (last, held) = markets.split_last().expect("p >= 1");
		let caller = trader::<T>(c, held, 1_000_000);

		// Opens the p-th position: every check of adding risk runs over all p positions.
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), *last, 1_000_000);

		assert_eq!(Accounts::<T>::get(&caller).map(|a| a.positions.len() as u32), Some(p));
	}

	#[benchmark]
	fn create_market() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let next = NextMarketId::<T>::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market_params::<T>());

		assert!(Markets::<T>::contains_key(next));
		Ok(())
	}

	#[benchmark]
	fn update_market() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let market = setup::<T>(1, 0)[0];
		let params = MarketParams { trading_fee: Perbill::zero(), ..market_params::<T>() };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market, params.clone());

		assert_eq!(Markets::<T>::get(market), Some(params));
		Ok(())
	}

	#[benchmark]
	fn set_collateral() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let asset = FIRST_ASSET + T::MaxCollateralAssets::get();
		T::BenchmarkHelper::fund(asset, &Pallet::<T>::custody_account(), 1_000_000);
		// Listing a new asset is the worst case: it seeds the reserve.
		let params =
			CollateralParams { unit: 1_000, weight: Perbill::from_percent(50), min_amount: 0 };

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, Some(params));

		assert_eq!(CollateralAssets::<T>::get(asset), Some(params));
		Ok(())
	}

	#[benchmark]
	fn fund_vault() {
		let asset = T::SettlementAsset::get();
		let caller: T::AccountId = whitelisted_caller();
		let amount = 1_000 * T::SettlementUnit::get();
		T::BenchmarkHelper::fund(asset, &caller, amount * 2);
		let before = Vault::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), amount);

		assert_eq!(Vault::<T>::get(), before + amount as i128);
	}

	#[benchmark]
	fn refresh(
		p: Linear<1, { T::MaxPositions::get() }>,
		c: Linear<0, { T::MaxCollateralAssets::get() }>,
	) {
		let markets = setup::<T>(p, c);
		let trader = trader::<T>(c, &markets, -1_000_000);
		// Far above every band's upper end (the trader is short, so its market asset has one);
		// only the last band examined is crossed.
		T::BenchmarkHelper::set_price(MARKET_ASSET, Price::from_u32(999_000_000));
		assert!(Pallet::<T>::is_crossed(&trader));
		let caller: T::AccountId = account("keeper", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), trader.clone());

		assert!(Triggers::<T>::contains_key(&trader));
	}

	/// `on_idle`'s sweep over `n` entries of the profit order, each stale: its holder holds a
	/// position in the market at another entry, so each costs the full check and a removal.
	#[benchmark]
	fn prune_stale(n: Linear<1, { crate::ranking::MAX_SWEEP }>) {
		let markets = setup::<T>(1, 0);
		let market = markets[0];
		let su = T::SettlementUnit::get();
		let unit = market_params::<T>().unit;
		for i in 0..n {
			let who: T::AccountId = account("stale", i, 0);
			// A long of one whole unit from 50,000 USD; its stale entry is from 40,000.
			let position = Position { market, size: unit as i128, cost: 50_000 * su as i128 };
			let record = MarginAccount {
				cash: 0,
				positions: BoundedVec::truncate_from(alloc::vec![position]),
				collateral: BoundedVec::new(),
				auctions: 0,
				crossed: false,
			};
			Accounts::<T>::insert(&who, record);
			let key = crate::ranking::rank_key(true, Price::from_u32(40_000));
			ProfitOrder::<T>::insert((market, true, key, &who), ());
		}
		StaleRanks::<T>::put(n);
		let seen;

		#[block]
		{
			seen = Pallet::<T>::prune_stale(n);
		}

		assert_eq!(seen, n);
		assert_eq!(StaleRanks::<T>::get(), 0);
	}

	/// Discovery among `10^e` accounts in the risk index, 1% of them with a band the price has
	/// left: what the liquidation offchain worker reads to find candidates. Not a call's weight
	/// (`extra`): `benchmarks/discovery.sh` runs it for the scaling report.
	#[benchmark(extra)]
	fn discover(e: Linear<3, 5>) {
		setup::<T>(1, 0);
		let now = crate::risk::bucket(Price::from_u32(50_000));
		let accounts = 10u32.pow(e);
		for i in 0..accounts {
			let who: T::AccountId = account("indexed", i, 0);
			// A band whose lower end is above the price (crossed), or well below it.
			let lower = if i % 100 == 0 { now + 1 } else { now - 256 };
			LowerTriggers::<T>::insert((MARKET_ASSET, crate::index::lower_key(lower), &who), ());
			UpperTriggers::<T>::insert(
				(MARKET_ASSET, crate::index::upper_key(now + 256), &who),
				(),
			);
		}
		let found;

		#[block]
		{
			found = Pallet::<T>::crossed_accounts(u32::MAX);
		}

		assert_eq!(found.len() as u32, accounts / 100);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
