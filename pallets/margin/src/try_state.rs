//! The pallet's invariants, checked by `try_state`.

use crate::{pallet::*, valuation::Pricing, IndexEntry, Interest};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, traits::fungibles::Inspect};
use perp_primitives::{AssetId, Balance, MarketId};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants, after every block under try-runtime, after every test
	/// scenario and after every fuzzed call.
	///
	/// ## Invariants
	///
	/// - **Collateral**: each account's holdings are in ascending asset order, none zero, all
	///   in listed assets; per asset they add up to `TotalCollateral`, and custody holds that
	///   total plus the asset's reserve. At most `MaxCollateralAssets` assets are listed.
	/// - **Accounts**: no empty record is stored; no empty position, none in an unknown market,
	///   at most one per market; each market's open interest is the sum of its longs and of
	///   its shorts.
	/// - **USD**: custody holds the settlement reserve, every account's cash, the vault and the
	///   fees.
	/// - **Risk index**: an account's entries (and its `crossed` flag's one key) and the
	///   per-asset keys agree both ways; only accounts with positions or debt are indexed or
	///   flagged, and every one of them is; the outdated count is right; an account no fresh
	///   price has crossed is not liquidatable.
	/// - **Profit order**: every open position is at its key; the other entries, stale, are
	///   as many as `StaleRanks` counts.
	/// - **Markets**: at most `MaxMarkets`, ids below the next id, parameters within bounds.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let custody = Self::custody_account();

		// Collateral: per asset, the entries add up to the total; custody holds it all.
		let mut sums: BTreeMap<AssetId, Balance> = BTreeMap::new();
		for (_, account) in Accounts::<T>::iter() {
			let assets = account.collateral.iter().map(|(asset, _)| asset);
			ensure!(assets.clone().zip(assets.skip(1)).all(|(a, b)| a < b), "collateral order");
			for &(asset, balance) in &account.collateral {
				ensure!(balance > 0, "zero collateral entry");
				ensure!(
					CollateralAssets::<T>::contains_key(asset),
					"collateral in an unlisted asset"
				);
				let sum = sums.entry(asset).or_default();
				*sum = sum.checked_add(balance).ok_or("collateral sum overflows")?;
			}
		}
		for (asset, total) in TotalCollateral::<T>::iter() {
			ensure!(sums.remove(&asset).unwrap_or_default() == total, "collateral sum != total");
			let owed = total.checked_add(CustodyReserve::<T>::get(asset)).ok_or("overflow")?;
			ensure!(T::Assets::balance(asset, &custody) >= owed, "custody holds less than owed");
		}
		ensure!(sums.is_empty(), "collateral recorded without a total");
		ensure!(
			CollateralAssets::<T>::count() <= T::MaxCollateralAssets::get(),
			"too many collateral assets"
		);

		// Accounts, positions and open interest.
		let mut interest: BTreeMap<MarketId, Interest> = BTreeMap::new();
		let mut cash: i128 = 0;
		for (_, account) in Accounts::<T>::iter() {
			ensure!(!account.is_empty(), "empty account stored");
			cash = cash.checked_add(account.cash).ok_or("cash sum overflows")?;
			let mut seen = Vec::new();
			for position in &account.positions {
				ensure!(position.size != 0, "empty position stored");
				ensure!(Markets::<T>::contains_key(position.market), "position in no market");
				ensure!(!seen.contains(&position.market), "two positions in one market");
				seen.push(position.market);
				let oi = interest.entry(position.market).or_default();
				let side = oi.side_mut(position.size > 0);
				*side = side.checked_add(position.size.unsigned_abs()).ok_or("overflow")?;
			}
		}
		for (market, oi) in OpenInterest::<T>::iter() {
			ensure!(interest.remove(&market).unwrap_or_default() == oi, "open interest != sizes");
		}
		ensure!(
			interest.values().all(|oi| *oi == Interest::default()),
			"sizes without open interest"
		);

		// USD: custody holds the reserve, every account's cash, the vault and the fees.
		let settlement = T::SettlementAsset::get();
		let owed = cash
			.checked_add(Vault::<T>::get())
			.and_then(|o| o.checked_add(i128::try_from(Fees::<T>::get()).ok()?))
			.and_then(|o| o.checked_add(i128::try_from(CustodyReserve::<T>::get(settlement)).ok()?))
			.ok_or("USD sum overflows")?;
		let held =
			i128::try_from(T::Assets::balance(settlement, &custody)).map_err(|_| "overflow")?;
		ensure!(held >= owed, "custody holds less USD than owed");

		// The risk index: entries and their owners agree, every account that could become
		// liquidatable is indexed, and one that no fresh price has crossed is not liquidatable.
		let version = RiskVersion::<T>::get();
		let mut outdated = 0u32;
		for (who, IndexEntry { version: v, triggers }) in Triggers::<T>::iter() {
			if v < version {
				outdated += 1;
			}
			let account = Accounts::<T>::get(&who).ok_or("index entries of no account")?;
			ensure!(account.at_risk(), "index entries, no risk");
			for t in &triggers {
				if let Some(b) = t.lower {
					ensure!(LowerTriggers::<T>::contains_key((t.asset, b, &who)), "lower missing");
				}
				if let Some(b) = t.upper {
					ensure!(UpperTriggers::<T>::contains_key((t.asset, b, &who)), "upper missing");
				}
			}
		}
		ensure!(outdated == Outdated::<T>::get(), "outdated count mismatch");
		// A lower entry belongs to its owner's bands, or is the entry its `crossed` flag keeps.
		for ((asset, bucket, who), ()) in LowerTriggers::<T>::iter() {
			let flagged = (asset, bucket, who.clone()) == Self::crossed_key(&who)
				&& Accounts::<T>::get(&who).is_some_and(|account| account.crossed);
			let banded = Triggers::<T>::get(&who).is_some_and(|entry| {
				entry.triggers.iter().any(|t| t.asset == asset && t.lower == Some(bucket))
			});
			ensure!(flagged || banded, "stray lower entry");
		}
		for ((asset, bucket, who), ()) in UpperTriggers::<T>::iter() {
			let triggers = Triggers::<T>::get(&who).ok_or("upper entry of no account")?.triggers;
			ensure!(
				triggers.iter().any(|t| t.asset == asset && t.upper == Some(bucket)),
				"stray upper entry"
			);
		}
		for (who, account) in Accounts::<T>::iter() {
			if account.crossed {
				ensure!(account.at_risk(), "crossed account without risk");
				ensure!(
					LowerTriggers::<T>::contains_key(Self::crossed_key(&who)),
					"crossed account not found at any price"
				);
			}
			if !account.at_risk() {
				continue;
			}
			ensure!(
				account.crossed || Triggers::<T>::contains_key(&who),
				"account at risk not indexed"
			);
			if let Ok(health) = Self::evaluate(&account, Pricing::Liquidation) {
				ensure!(
					Self::is_crossed(&who) || !health.state().is_liquidatable(),
					"liquidatable account inside its safe band"
				);
			}
		}

		// The profit order holds every open position, at its key, and otherwise only the
		// `StaleRanks` entries that liquidations left behind, none of them an open position.
		let su = T::SettlementUnit::get();
		for (who, account) in Accounts::<T>::iter() {
			for position in &account.positions {
				let unit = Markets::<T>::get(position.market).ok_or("position in no market")?.unit;
				let (long, key) =
					crate::ranking::rank(position, unit, su).ok_or("empty position stored")?;
				ensure!(
					ProfitOrder::<T>::contains_key((position.market, long, key, &who)),
					"position missing from the profit order"
				);
			}
		}
		let stale = ProfitOrder::<T>::iter_keys()
			.filter(|(market, long, key, who)| !Self::ranks_live(who, *market, *long, *key))
			.count();
		ensure!(stale == StaleRanks::<T>::get() as usize, "stray profit order entry");

		// Markets.
		ensure!(Markets::<T>::count() <= T::MaxMarkets::get(), "too many markets");
		for (market, params) in Markets::<T>::iter() {
			ensure!(market < NextMarketId::<T>::get(), "market id not below the next id");
			ensure!(Self::ensure_valid_market(&params).is_ok(), "market parameters out of bounds");
		}
		Ok(())
	}
}
