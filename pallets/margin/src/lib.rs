#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use valuation::{Pricing, Quotes, Snapshot, STALE_COLLATERAL_SHARE};
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatchable_impls;
mod impls;
mod index;
mod ledger;
pub mod migrations;
#[cfg(test)]
mod mock;
mod ranking;
pub mod risk;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
mod valuation;
pub mod weights;

/// Prepares state that the benchmarks need and the pallet cannot create itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make sure the asset `asset` exists and give `who` `amount` of it.
	fn fund(asset: perp_primitives::AssetId, who: &AccountId, amount: perp_primitives::Balance);
	/// Make `asset`'s price fresh at `price`.
	fn set_price(asset: perp_primitives::AssetId, price: perp_primitives::Price);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungibles::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use perp_primitives::{AssetId, Balance, MarketId, Price, PriceProvider};
	use sp_runtime::ArithmeticError;

	/// A market's parameters with this runtime's tier bound.
	pub type MarketParamsOf<T> = MarketParams<<T as Config>::MaxTiers>;
	/// A margin account with this runtime's position bound.
	pub type MarginAccountOf<T> =
		MarginAccount<<T as Config>::MaxPositions, <T as Config>::MaxCollateralAssets>;
	/// An account's risk-index entries: one per asset it is exposed to.
	pub type TriggersOf<T> = BoundedVec<Trigger, MaxExposures<T>>;
	/// An account's record in the risk index with this runtime's bound.
	pub type IndexEntryOf<T> = IndexEntry<MaxExposures<T>>;

	/// The most assets an account can be exposed to: one per position and per collateral asset.
	pub struct MaxExposures<T>(core::marker::PhantomData<T>);
	impl<T: Config> Get<u32> for MaxExposures<T> {
		fn get() -> u32 {
			T::MaxPositions::get().saturating_add(T::MaxCollateralAssets::get())
		}
	}

	/// The storage layout's version (see `migrations`).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The fungible assets used as collateral, the native token included.
		type Assets: Inspect<Self::AccountId, AssetId = AssetId, Balance = Balance>
			+ Mutate<Self::AccountId>;
		/// Prices, with their freshness.
		type Prices: PriceProvider;
		/// The origin that lists collateral and manages markets (governance).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The settlement asset (USD) in which PnL is realized and fees are paid.
		#[pallet::constant]
		type SettlementAsset: Get<AssetId>;
		/// Smallest units of the settlement asset per USD (10^decimals).
		#[pallet::constant]
		type SettlementUnit: Get<Balance>;
		/// The pallet's id, from which the custody account is derived.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// The most positions an account may hold (one per market).
		#[pallet::constant]
		type MaxPositions: Get<u32>;
		/// The most margin tiers of a market.
		#[pallet::constant]
		type MaxTiers: Get<u32>;
		/// The most collateral assets besides the settlement asset.
		#[pallet::constant]
		type MaxCollateralAssets: Get<u32>;
		/// The most markets.
		#[pallet::constant]
		type MaxMarkets: Get<u32>;
		/// The highest price a liquidation price is searched up to.
		#[pallet::constant]
		type MaxPrice: Get<Price>;
		/// An account a liquidation leaves below its maintenance margin times one plus this
		/// stays in liquidation (found at any price, and liquidatable) until its equity is
		/// above that: it cannot leave liquidation and come back on noise around its
		/// maintenance margin. At most `MAX_EXIT_BUFFER`.
		#[pallet::constant]
		type ExitBuffer: Get<sp_runtime::Perbill>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Creates the state the benchmarks need.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The collateral assets besides the settlement asset, with their parameters.
	#[pallet::storage]
	pub type CollateralAssets<T: Config> =
		CountedStorageMap<_, Twox64Concat, AssetId, CollateralParams, OptionQuery>;

	/// What the custody account held of an asset when it was listed: the reserve that keeps the
	/// custody account alive and is never owed to anyone.
	#[pallet::storage]
	pub type CustodyReserve<T: Config> = StorageMap<_, Twox64Concat, AssetId, Balance, ValueQuery>;

	/// The sum of all accounts' collateral per non-settlement asset.
	#[pallet::storage]
	pub type TotalCollateral<T: Config> = StorageMap<_, Twox64Concat, AssetId, Balance, ValueQuery>;

	/// Each account's USD cash and positions (absent when empty).
	#[pallet::storage]
	pub type Accounts<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, MarginAccountOf<T>, OptionQuery>;

	/// The markets.
	#[pallet::storage]
	pub type Markets<T: Config> =
		CountedStorageMap<_, Twox64Concat, MarketId, MarketParamsOf<T>, OptionQuery>;

	/// The id the next market gets.
	#[pallet::storage]
	pub type NextMarketId<T: Config> = StorageValue<_, MarketId, ValueQuery>;

	/// Open interest per market: total long size and total short size, in the asset's units.
	#[pallet::storage]
	pub type OpenInterest<T: Config> = StorageMap<_, Twox64Concat, MarketId, Interest, ValueQuery>;

	/// The protocol vault's USD: the counterparty of every trade. It pays traders' profits and
	/// receives their losses; negative when it has paid out more than it holds.
	#[pallet::storage]
	pub type Vault<T: Config> = StorageValue<_, i128, ValueQuery>;

	/// Trading fees collected, in USD.
	#[pallet::storage]
	pub type Fees<T: Config> = StorageValue<_, Balance, ValueQuery>;

	/// The risk index, lower side: accounts by asset and the bucket of the lower end of their
	/// safe band for that asset's price. Once a fresh price is at or below it, the account must
	/// be re-checked. Buckets are inverted big-endian, so keys iterate from high lower ends to
	/// low: the accounts whose band the price left furthest behind come first.
	#[pallet::storage]
	pub type LowerTriggers<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, AssetId>,
			NMapKey<Identity, Bucket>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
		OptionQuery,
	>;

	/// The risk index, upper side: like `LowerTriggers` for the upper end of the band, with the
	/// bucket big-endian so that keys iterate from low upper ends to high (again the furthest
	/// left behind first).
	#[pallet::storage]
	pub type UpperTriggers<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, AssetId>,
			NMapKey<Identity, Bucket>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
		OptionQuery,
	>;

	/// Each account's entries in the risk index, so that they can be replaced, with the
	/// `RiskVersion` they were computed under.
	#[pallet::storage]
	pub type Triggers<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, IndexEntryOf<T>, OptionQuery>;

	/// Every open position by market, side (long: `true`) and entry price, in the order
	/// auto-deleveraging takes them (see `ranking`): lowest entry first for longs, highest
	/// first for shorts, so that at any price the keys iterate from the best unrealized
	/// PnL over entry cost to the worst. Maintained on every trade and reduction, except that
	/// a liquidation's close leaves its entry behind, stale (see `ranking`).
	#[pallet::storage]
	pub type ProfitOrder<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, MarketId>,
			NMapKey<Identity, bool>,
			NMapKey<Identity, RankKey>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
		OptionQuery,
	>;

	/// How many entries of `ProfitOrder` are stale: left behind by positions that liquidation
	/// closed, not removed yet.
	#[pallet::storage]
	pub type StaleRanks<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Where `on_idle`'s sweep of the profit order for stale entries goes on: the raw key of
	/// the last entry it looked at (none: from the first).
	#[pallet::storage]
	pub type PruneCursor<T: Config> = StorageValue<_, BoundedVec<u8, ConstU32<256>>, OptionQuery>;

	/// Bumped whenever governance changes a parameter that can lower an account's health
	/// (market tiers, collateral weights): every band computed before is void.
	#[pallet::storage]
	pub type RiskVersion<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// How many indexed accounts have bands from before the current `RiskVersion`: until they
	/// are refreshed, discovery must visit them too (see `outdated_accounts`).
	#[pallet::storage]
	pub type Outdated<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Collateral assets besides the settlement asset. The custody account must already
		/// hold at least each asset's minimum balance (see `set_collateral`).
		pub collateral: Vec<(AssetId, CollateralParams)>,
		/// Markets, numbered from 0 in this order.
		pub markets: Vec<MarketParamsOf<T>>,
		/// USD put into the vault from the custody account's genesis balance.
		pub vault: Balance,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let settlement = T::SettlementAsset::get();
			// Without the settlement asset at genesis there is no reserve, and no USD can be
			// deposited (`CustodyNotSeeded`).
			if T::Assets::asset_exists(settlement) {
				Pallet::<T>::seed_reserve(settlement)
					.expect("genesis custody holds the settlement asset's minimum balance");
			}
			for (asset, params) in &self.collateral {
				Pallet::<T>::do_set_collateral(*asset, Some(*params))
					.expect("genesis collateral is valid and its custody is seeded");
			}
			for params in &self.markets {
				Pallet::<T>::do_create_market(params.clone()).expect("genesis market is valid");
			}
			if self.vault > 0 {
				let reserve = CustodyReserve::<T>::get(settlement);
				let moved = reserve.checked_sub(self.vault).expect("genesis vault within custody");
				assert!(
					moved >= T::Assets::minimum_balance(settlement),
					"genesis vault leaves the custody below the minimum balance"
				);
				CustodyReserve::<T>::insert(settlement, moved);
				Vault::<T>::put(self.vault as i128);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Collateral moved into custody.
		Deposited { who: T::AccountId, asset: AssetId, amount: Balance },
		/// Collateral moved out of custody.
		Withdrawn { who: T::AccountId, asset: AssetId, amount: Balance },
		/// A position changed by `delta` at `price`; `size` is the new size. `realized` is the
		/// PnL realized by the part closed, `fee` the trading fee paid.
		Traded {
			who: T::AccountId,
			market: MarketId,
			delta: i128,
			size: i128,
			price: Price,
			fee: Balance,
			realized: i128,
		},
		/// Governance listed, updated or (with `None`) delisted a collateral asset.
		CollateralSet { asset: AssetId, params: Option<CollateralParams> },
		/// Governance created a market.
		MarketCreated { market: MarketId, params: MarketParamsOf<T> },
		/// Governance updated a market.
		MarketUpdated { market: MarketId, params: MarketParamsOf<T> },
		/// USD moved into the vault.
		VaultFunded { who: T::AccountId, amount: Balance },
		/// An account's safe band had been left; it was recomputed at current prices.
		Refreshed { who: T::AccountId },
		/// Liquidation moved collateral from `who` to `to`.
		CollateralSeized { who: T::AccountId, asset: AssetId, amount: Balance, to: T::AccountId },
		/// `from`'s USD covered `covered` of `who`'s debt; `uncovered` remains.
		ShortfallCovered {
			who: T::AccountId,
			from: T::AccountId,
			covered: Balance,
			uncovered: Balance,
		},
		/// The vault took over `amount` of `who`'s debt (a socialized loss).
		ShortfallAbsorbed { who: T::AccountId, amount: Balance },
		/// `amount` USD of cash moved from `from` to `to` for the liquidation pallet (an auction
		/// payment, a keeper's reward or tip, a payment into the insurance fund).
		CashTransferred { from: T::AccountId, to: T::AccountId, amount: Balance },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero.
		ZeroAmount,
		/// The asset is not accepted as collateral.
		UnknownAsset,
		/// The account holds less of the asset than it asked to withdraw.
		InsufficientCollateral,
		/// The account would fall below its initial margin.
		InsufficientMargin,
		/// A price the action needs is not fresh.
		PriceNotFresh,
		/// The market does not exist.
		UnknownMarket,
		/// The position would exceed the market's leverage limit.
		LeverageTooHigh,
		/// The market's open interest on that side would exceed its cap.
		OpenInterestCapExceeded,
		/// The account holds `MaxPositions` positions already.
		TooManyPositions,
		/// The account has no position in the market.
		NoPosition,
		/// A market parameter is out of bounds.
		InvalidMarketParams,
		/// A collateral parameter is out of bounds, or the asset is the settlement asset.
		InvalidCollateralParams,
		/// `MaxCollateralAssets` assets are listed already.
		TooManyCollateralAssets,
		/// `MaxMarkets` markets exist already.
		TooManyMarkets,
		/// Accounts still hold the asset: it cannot be delisted, nor its unit changed.
		CollateralInUse,
		/// The custody account holds less than the asset's minimum balance: send it that much
		/// before listing, so that withdrawals can never reap it.
		CustodyNotSeeded,
		/// No fresh price has left the account's safe band: there is nothing to refresh.
		NotCrossed,
		/// A liquidation cannot pay an account to itself.
		InvalidBeneficiary,
		/// The position left open would be worth less than the market's `min_notional`: trade
		/// it to zero or to at least that.
		PositionTooSmall,
		/// The holding left would be less than the asset's `min_amount`: leave none or at least
		/// that much.
		CollateralTooSmall,
		/// The account has no collateral auction open to close.
		NoOpenAuction,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxPositions::get() > 0, "MaxPositions must be positive");
			assert!(T::MaxTiers::get() > 0, "MaxTiers must be positive");
			assert!(T::MaxMarkets::get() > 0, "MaxMarkets must be positive");
			assert!(T::SettlementUnit::get() > 0, "SettlementUnit must be positive");
			assert!(!T::MaxPrice::get().is_zero(), "MaxPrice must be positive");
			assert!(
				T::ExitBuffer::get() <= crate::dispatchable_impls::MAX_EXIT_BUFFER,
				"ExitBuffer above MAX_EXIT_BUFFER"
			);
		}

		/// With the block's spare weight, the sweep of the profit order removes the stale
		/// entries that liquidations left (see `ranking`).
		fn on_idle(_n: BlockNumberFor<T>, limit: Weight) -> Weight {
			Self::sweep_stale(limit)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Move `amount` of collateral `asset` (the settlement asset or a listed one) from the
		/// sender into custody.
		///
		/// Origin: signed. Emits `Deposited`.
		/// Errors: `ZeroAmount`, `UnknownAsset`, `ArithmeticError::Overflow`, and the asset's
		/// transfer errors (e.g. insufficient balance).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::deposit())]
		pub fn deposit(origin: OriginFor<T>, asset: AssetId, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit(who, asset, amount)
		}

		/// Move `amount` of collateral `asset` from custody back to the sender. With open
		/// positions, the account must stay at or above its initial margin at fresh prices;
		/// USD cannot be withdrawn into debt.
		///
		/// Origin: signed. Emits `Withdrawn`.
		/// Errors: `ZeroAmount`, `UnknownAsset`, `InsufficientCollateral`, `PriceNotFresh`,
		/// `InsufficientMargin`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::withdraw(
			T::MaxPositions::get(),
			T::MaxCollateralAssets::get()
		))]
		pub fn withdraw(origin: OriginFor<T>, asset: AssetId, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, asset, amount)
		}

		/// Change the sender's position in `market` by `delta` units of the market's asset
		/// (positive buys, negative sells) against the vault at the oracle price, paying the
		/// trading fee. Opening, increasing or flipping a position needs fresh prices, the
		/// market's open-interest cap and leverage limit, and equity at or above initial
		/// margin after the trade; reducing needs only a fresh price of the market.
		///
		/// Origin: signed. Emits `Traded`.
		/// Errors: `ZeroAmount`, `UnknownMarket`, `PriceNotFresh`, `TooManyPositions`,
		/// `OpenInterestCapExceeded`, `LeverageTooHigh`, `InsufficientMargin`,
		/// `ArithmeticError`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::trade(
			T::MaxPositions::get(),
			T::MaxCollateralAssets::get()
		))]
		pub fn trade(origin: OriginFor<T>, market: MarketId, delta: i128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_trade(who, market, delta)
		}

		/// Close the sender's whole position in `market` at a fresh price.
		///
		/// Origin: signed. Emits `Traded`. Errors: `NoPosition`, `UnknownMarket`,
		/// `PriceNotFresh`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::trade(
			T::MaxPositions::get(),
			T::MaxCollateralAssets::get()
		))]
		pub fn close(origin: OriginFor<T>, market: MarketId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let size = Self::position(&who, market).ok_or(Error::<T>::NoPosition)?.size;
			Self::do_trade(who, market, size.checked_neg().ok_or(ArithmeticError::Overflow)?)
		}

		/// Create a market with `params`.
		///
		/// Origin: `GovernanceOrigin`. Emits `MarketCreated`.
		/// Errors: `InvalidMarketParams`, `TooManyMarkets`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::create_market())]
		pub fn create_market(origin: OriginFor<T>, params: MarketParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_create_market(params).map(|_| ())
		}

		/// Replace a market's parameters. Existing positions stay; new requirements apply to
		/// them at once.
		///
		/// Origin: `GovernanceOrigin`. Emits `MarketUpdated`.
		/// Errors: `UnknownMarket`, `InvalidMarketParams` (the asset and unit cannot change).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::update_market())]
		pub fn update_market(
			origin: OriginFor<T>,
			market: MarketId,
			params: MarketParamsOf<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_update_market(market, params)
		}

		/// List (or update) `asset` as collateral with `params`, or delist it with `None`.
		///
		/// Origin: `GovernanceOrigin`. Emits `CollateralSet`.
		/// Errors: `InvalidCollateralParams`, `TooManyCollateralAssets`, `CustodyNotSeeded`,
		/// `UnknownAsset`, `CollateralInUse`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_collateral())]
		pub fn set_collateral(
			origin: OriginFor<T>,
			asset: AssetId,
			params: Option<CollateralParams>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_collateral(asset, params)
		}

		/// Move `amount` USD from the sender into the vault.
		///
		/// Origin: signed. Emits `VaultFunded`. Errors: `ZeroAmount`, transfer errors.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::fund_vault())]
		pub fn fund_vault(origin: OriginFor<T>, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_fund_vault(who, amount)
		}

		/// Recompute the safe band of an account that a fresh price has left (it may still be
		/// healthy): keeps the risk index tight, so that discovery only visits accounts at risk.
		/// Anyone may call it; liquidation does it for the accounts it checks.
		///
		/// Origin: signed. Emits `Refreshed`. Errors: `NotCrossed`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::refresh(
			T::MaxPositions::get(),
			T::MaxCollateralAssets::get()
		))]
		pub fn refresh(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			ensure!(Self::is_crossed(&who), Error::<T>::NotCrossed);
			Self::reindex(&who);
			Self::deposit_event(Event::Refreshed { who });
			Ok(())
		}
	}
}
