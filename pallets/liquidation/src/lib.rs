#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]
// `#[pallet::validate_unsigned]` expands into a let-binding of a unit result.
#![allow(clippy::let_unit_value)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

mod adl;
mod auction;
// (The benchmarks and tests time and check the pool's `ValidateUnsigned`, deprecated.)
#[cfg(feature = "runtime-benchmarks")]
#[allow(deprecated)]
mod benchmarking;
mod block_space;
mod dispatchable_impls;
mod impls;
#[cfg(test)]
mod mock;
pub mod offchain;
pub mod sizing;
#[cfg(test)]
#[allow(deprecated)]
mod tests;
pub mod types;
pub mod weights;

pub use types::{
	AdlTarget, AdlView, Auction, AuctionId, AuctionParams, AuctionView, BlockTally, BreakerLevel,
	FundView, Stage, Step,
};

/// Prepares state that the benchmarks need and the pallet cannot create itself.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Creates `n` distinct accounts, each with `positions` positions and below half its
	/// maintenance margin at fresh prices, with a debt left after the close that sends its
	/// collateral to auction.
	fn liquidatable_accounts(n: u32, positions: u32) -> alloc::vec::Vec<AccountId>;
	/// The most positions an account may hold.
	fn max_positions() -> u32;
	/// Creates `n` distinct healthy accounts with `MaxPositions` positions, at fresh prices.
	fn healthy_accounts(n: u32) -> alloc::vec::Vec<AccountId>;
	/// Creates a bankrupt account whose every position is closed and whose debt is covered
	/// by non-settlement collateral at fresh prices, so liquidating it starts an auction.
	fn indebted_account() -> AccountId;
	/// Creates `n` distinct healthy accounts, each with `MaxPositions` positions in profit at
	/// fresh prices, equally ranked for auto-deleveraging, with `MaxMarkets` markets listed;
	/// returns each with the market of its position that deleveraging takes first.
	fn profitable_positions(n: u32) -> alloc::vec::Vec<(AccountId, perp_primitives::MarketId)>;
	/// Gives `who` `amount` USD of margin cash, for taking auctions.
	fn fund_cash(who: &AccountId, amount: perp_primitives::Balance);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::{DispatchClass, PostDispatchInfo},
		pallet_prelude::*,
		PalletId,
	};
	use frame_system::{offchain::CreateBare, pallet_prelude::*};
	use perp_primitives::{AssetId, Balance, MarginLiquidator, MarketId, Price, PriceProvider};
	use sp_runtime::Perbill;

	/// An auction as stored.
	pub type AuctionOf<T> = Auction<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
	/// Auction parameters as stored.
	pub type AuctionParamsOf<T> = AuctionParams<BlockNumberFor<T>>;

	/// A batch of accounts to liquidate.
	pub type AccountsOf<T> =
		BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxBatch>;
	/// What one call's valuations share (see `MarginReader::Quotes`).
	pub type QuotesOf<T> = <<T as Config>::Margin as perp_primitives::MarginReader<
		<T as frame_system::Config>::AccountId,
	>>::Quotes;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateBare<Call<Self>> {
		/// Reads the health of margin accounts.
		type Margin: MarginLiquidator<Self::AccountId>;
		/// Oracle prices, to restart auctions at.
		type Prices: PriceProvider;
		/// The origin that may set the circuit breaker.
		type EmergencyOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The origin that may set the auction parameters.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The insurance fund's id: penalties go to its margin account.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// The penalty on the notional a liquidation closes, paid to the insurance fund.
		#[pallet::constant]
		type Penalty: Get<Perbill>;
		/// Partial liquidation stops once equity reaches the initial margin times one plus
		/// this buffer.
		#[pallet::constant]
		type Buffer: Get<Perbill>;
		/// Below this share of its maintenance margin an account is closed in full, not in
		/// partial steps.
		#[pallet::constant]
		type FullLiquidationBelow: Get<Perbill>;
		/// The share of its penalties a keeper's signed liquidation pays the keeper.
		#[pallet::constant]
		type KeeperShare: Get<Perbill>;
		/// The most USD the insurance fund pays towards shortfalls in one block; the rest of a
		/// shortfall is absorbed by the vault.
		#[pallet::constant]
		type InsuranceCapPerBlock: Get<Balance>;
		/// The socialized loss (USD) the vault carries before auto-deleveraging recovers the
		/// excess from the most profitable positions.
		#[pallet::constant]
		type AdlThreshold: Get<Balance>;
		/// The most notional (USD) liquidation may close in one market in one block; positions
		/// beyond it wait for the next block (their accounts stay liquidatable).
		#[pallet::constant]
		type MaxLiquidatedNotionalPerBlock: Get<Balance>;
		/// The most auctions open at once.
		#[pallet::constant]
		type MaxAuctions: Get<u32>;
		/// The most times an auction may be restarted: the restart after that retires it, its
		/// lot to the insurance fund and the owner's debt to the shortfall stage, so that a
		/// lot nobody buys cannot be restarted (and its tip paid) forever.
		#[pallet::constant]
		type MaxRestarts: Get<u32>;
		/// The most auctions (or folds into the insurance fund) one liquidation starts for an
		/// account: what the account holds beyond them goes to auction once those have ended,
		/// so that one account's debt stage costs a bounded weight however many collateral
		/// assets it holds.
		#[pallet::constant]
		type MaxAuctionsPerLiquidation: Get<u32>;
		/// The auction parameters until governance sets others.
		type DefaultAuctionParams: Get<AuctionParamsOf<Self>>;
		/// The most accounts in one `liquidate` batch.
		#[pallet::constant]
		type MaxBatch: Get<u32>;
		/// The most batches the offchain worker submits in one run (it submits fewer when the
		/// operational class's reserved share of a block holds fewer).
		#[pallet::constant]
		type MaxBatchesPerRun: Get<u32>;
		/// The operational weight that liquidations and deleveraging leave free in every
		/// block for the oracle feeds (every feeder's feed at its bounds): a batch that would
		/// leave less is refused in the block, so that a cascade never starves the prices it
		/// needs.
		type FeedRoom: Get<Weight>;
		/// The priority of unsigned liquidations: above every signed transaction's but the
		/// oracle feeds'.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
		/// Creates the state the benchmarks need.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The current circuit-breaker level.
	#[pallet::storage]
	pub type Breaker<T: Config> = StorageValue<_, BreakerLevel, ValueQuery>;

	#[pallet::type_value]
	pub fn DefaultParams<T: Config>() -> AuctionParamsOf<T> {
		T::DefaultAuctionParams::get()
	}

	/// The auction curve and keeper rules.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, AuctionParamsOf<T>, ValueQuery, DefaultParams<T>>;

	/// Open collateral auctions, each under an id below `NextAuctionId`.
	#[pallet::storage]
	pub type Auctions<T: Config> =
		StorageMap<_, Twox64Concat, AuctionId, AuctionOf<T>, OptionQuery>;

	/// How many auctions are open (the entries of `Auctions`). A new auction's id is new by
	/// construction (`NextAuctionId`), so counting it needs no read of the map, which a counted
	/// map's insert makes. Stored under the key the counted map `Auctions` once kept its counter
	/// at, so the layout is unchanged.
	#[pallet::storage]
	pub type CounterForAuctions<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The id the next auction gets.
	#[pallet::storage]
	pub type NextAuctionId<T: Config> = StorageValue<_, AuctionId, ValueQuery>;

	/// How many times each open auction has been restarted (absent when never).
	#[pallet::storage]
	pub type Restarts<T: Config> = StorageMap<_, Twox64Concat, AuctionId, u32, ValueQuery>;

	/// The notional liquidation has closed in each market, and in which block.
	#[pallet::storage]
	pub type LiquidatedNotional<T: Config> =
		StorageMap<_, Twox64Concat, MarketId, BlockTally<BlockNumberFor<T>>, ValueQuery>;

	/// What the insurance fund has paid towards shortfalls, and in which block.
	#[pallet::storage]
	pub type InsurancePaid<T: Config> = StorageValue<_, BlockTally<BlockNumberFor<T>>, ValueQuery>;

	/// The loss the vault absorbed from shortfalls and auto-deleveraging has not recovered.
	#[pallet::storage]
	pub type SocializedLoss<T: Config> = StorageValue<_, Balance, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The circuit breaker moved from one level to another.
		BreakerSet { from: BreakerLevel, to: BreakerLevel },
		/// Part (or all, `full`) of an account's positions was closed, each as `closes` tells
		/// (largest maintenance margin first); its equity and maintenance margin afterwards.
		/// One event per liquidated account, however many positions it held.
		Liquidated {
			who: T::AccountId,
			full: bool,
			closes: alloc::vec::Vec<crate::types::ClosedPosition>,
			equity: i128,
			maintenance: u128,
		},
		/// A position of `who` waits for the next block: the market's liquidated-notional cap
		/// for this block is reached.
		Deferred { who: T::AccountId, market: MarketId },
		/// An account in a batch was no longer liquidatable when the batch ran.
		Skipped { who: T::AccountId },
		/// Liquidating an account failed; what it had done was rolled back and the rest of the
		/// batch went on.
		LiquidationFailed { who: T::AccountId, error: DispatchError },
		/// A keeper's signed liquidation paid it `reward` out of the penalties.
		KeeperRewarded { keeper: T::AccountId, who: T::AccountId, reward: Balance },
		/// `lot` of `who`'s collateral went to auction to raise `tab` USD of its debt.
		AuctionStarted {
			id: AuctionId,
			who: T::AccountId,
			asset: AssetId,
			lot: Balance,
			tab: Balance,
			top: Price,
		},
		/// `amount` of `who`'s collateral, below the minimum lot (the auctions' `dust`), went
		/// to the insurance fund at the floor price instead of an auction, and `paid` USD of it
		/// went against `who`'s debt.
		CollateralFolded { who: T::AccountId, asset: AssetId, amount: Balance, paid: Balance },
		/// `taker` bought `amount` at `price`, paying `paid` USD towards the owner's debt.
		AuctionTaken {
			id: AuctionId,
			taker: T::AccountId,
			amount: Balance,
			price: Price,
			paid: Balance,
		},
		/// An auction restarted at `top`; `keeper` was tipped `tip` by the insurance fund.
		AuctionRestarted { id: AuctionId, top: Price, keeper: T::AccountId, tip: Balance },
		/// An auction ended: `returned` collateral went back to the owner, `unpaid` USD of its
		/// tab was not raised.
		AuctionEnded { id: AuctionId, returned: Balance, unpaid: Balance },
		/// An auction restarted `MaxRestarts` times was retired: its `lot` went to the
		/// insurance fund and the `unpaid` tab to the owner's debt stage.
		AuctionRetired { id: AuctionId, lot: Balance, unpaid: Balance },
		/// A debt left after every position and auction: `insurance` paid by the fund, the
		/// rest `socialized` (absorbed by the vault).
		ShortfallSettled { who: T::AccountId, insurance: Balance, socialized: Balance },
		/// Auto-deleveraging closed `closed` units of `who`'s position in `market` at its entry
		/// `price`; the profit given up, `recovered` USD, offsets the vault's socialized loss.
		Deleveraged {
			who: T::AccountId,
			market: MarketId,
			closed: Balance,
			price: Price,
			recovered: Balance,
		},
		/// Auto-deleveraging passed over `who`'s position in `market`, the best ranked left: its
		/// account cannot be deleveraged now (equity not positive, or a price it needs is not
		/// fresh).
		DeleverageSkipped { who: T::AccountId, market: MarketId },
		/// `who` paid `amount` USD into the insurance fund.
		InsuranceFunded { who: T::AccountId, amount: Balance },
		/// Governance set the auction parameters.
		ParamsSet { params: AuctionParamsOf<T> },
		/// Auto-deleveraging's walk removed the stale entry `who`'s position in `market` left
		/// in margin's profit order when a liquidation closed it (see `adl`).
		StaleRankPruned { who: T::AccountId, market: MarketId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The breaker is already at the requested level.
		BreakerUnchanged,
		/// The breaker does not allow new liquidations.
		BreakerActive,
		/// The batch is empty.
		EmptyBatch,
		/// The batch names an account twice.
		DuplicateAccount,
		/// The account is not liquidatable now.
		NotLiquidatable,
		/// No open auction has this id.
		UnknownAuction,
		/// The auction is past its tail or below its floor: restart it first.
		AuctionNeedsRestart,
		/// The auction is neither past its tail nor below its floor.
		AuctionRunning,
		/// The auction price is above the taker's `max_price`.
		PriceAboveLimit,
		/// The amount is zero.
		ZeroAmount,
		/// The take would leave less than `dust` USD to raise: take more, or all.
		LeavesDust,
		/// The asset's oracle price is not fresh.
		PriceNotFresh,
		/// An auction parameter is out of bounds.
		InvalidParams,
		/// The vault's socialized loss is within `AdlThreshold`: nothing to deleverage.
		NothingToDeleverage,
		/// No position auto-deleveraging would look at may be deleveraged now.
		NotInProfit,
		/// A `deleverage` may look at no more than `MaxBatch` positions.
		BatchTooLarge,
		/// An amount or price overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Finds liquidatable accounts through margin's risk index and submits them as
		/// unsigned `liquidate` batches (see `offchain`).
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::offchain_liquidate(now);
		}

		fn integrity_test() {
			assert!(T::MaxBatch::get() > 0, "MaxBatch must be positive");
			assert!(
				Self::ensure_valid_params(&T::DefaultAuctionParams::get()).is_ok(),
				"DefaultAuctionParams out of bounds"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Set the circuit-breaker level.
		///
		/// Origin: `EmergencyOrigin`. Emits `BreakerSet`. Errors: `BreakerUnchanged`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_breaker())]
		pub fn set_breaker(origin: OriginFor<T>, level: BreakerLevel) -> DispatchResult {
			T::EmergencyOrigin::ensure_origin(origin)?;
			Self::do_set_breaker(level)
		}

		/// Liquidate `accounts`: each one still below maintenance margin at fresh prices (or in a
		/// liquidation under way and below margin's exit) has its positions closed, largest
		/// maintenance margin first, each by the smallest close that brings its equity back to
		/// the initial margin plus `Buffer` (in closed form, see `sizing`; at most the market's
		/// `max_partial_liquidation` share of a position, within its notional cap for the
		/// block), or in full below `FullLiquidationBelow` of its maintenance margin or when
		/// its equity does not cover the discount and penalty of closing everything; each
		/// step closes at the price less (long) or plus (short) the market's discount and pays
		/// `Penalty` of the closed notional to the insurance fund. Accounts that recovered are
		/// skipped, and the weight of the skipped work is refunded, as is what an account with
		/// fewer positions than `MaxPositions` does not use (`lighter_by`).
		///
		/// Origin: none (submitted by validators' offchain workers; `validate_unsigned` re-checks
		/// every account). Operational class. Emits one `Liquidated` per account (with its
		/// closes), `Deferred`, `Skipped`, `LiquidationFailed`, and the waterfall's later stages'
		/// events.
		/// Errors: `BreakerActive`, `EmptyBatch`, `DuplicateAccount`.
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::liquidate(accounts.len() as u32), DispatchClass::Operational))]
		pub fn liquidate(
			origin: OriginFor<T>,
			accounts: AccountsOf<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let (done, unused) = Self::do_liquidate(&accounts)?;
			let skipped = (accounts.len() as u32).saturating_sub(done);
			// The batch's base cost is in `liquidate(done)`; a skipped account adds its re-check;
			// an account with fewer positions than the worst case costs less.
			let skips = T::WeightInfo::skip(skipped).saturating_sub(T::WeightInfo::skip(0));
			let actual =
				T::WeightInfo::liquidate(done).saturating_add(skips).saturating_sub(unused);
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::No })
		}

		/// Liquidate `who` as a keeper: the same waterfall as `liquidate`, and the keeper is paid
		/// `KeeperShare` of the penalties. Free when it liquidates; the chain never depends on
		/// keepers (validators' offchain workers do the same unsigned). A call that does nothing
		/// (every market's notional cap for the block reached) pays its fee.
		///
		/// Origin: signed. Emits what `liquidate` does and `KeeperRewarded`. Errors:
		/// `BreakerActive`, `NotLiquidatable`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::liquidate_account())]
		pub fn liquidate_account(
			origin: OriginFor<T>,
			who: T::AccountId,
		) -> DispatchResultWithPostInfo {
			let keeper = ensure_signed(origin)?;
			let acted = Self::do_keeper_liquidate(keeper, who)?;
			Ok(if acted { Pays::No } else { Pays::Yes }.into())
		}

		/// Buy up to `max_amount` of an auction's collateral at its current price, if that is
		/// at most `max_price`. The taker pays from its margin USD cash, which repays the
		/// owner's debt, and receives the collateral into its margin account. A take never
		/// pays more than the auction's tab; one that leaves less than `dust` USD to raise is
		/// refused. Once the tab is raised, the rest of the lot returns to the owner.
		///
		/// The declared weight covers the worst case: a take that ends the auction with debt
		/// left sends the owner's debt back through the waterfall (new auctions or the
		/// shortfall stage), bounded by one account's benchmarked liquidation; a take that does
		/// not end the auction is refunded that part.
		///
		/// Origin: signed. Emits `AuctionTaken`, `AuctionEnded`, `ShortfallSettled`. Errors:
		/// `BreakerActive`, `UnknownAuction`, `AuctionNeedsRestart`, `PriceAboveLimit`,
		/// `ZeroAmount`, `LeavesDust`, and margin's when the taker lacks the cash.
		#[pallet::call_index(3)]
		#[pallet::weight(Pallet::<T>::take_weight(true))]
		pub fn take(
			origin: OriginFor<T>,
			id: AuctionId,
			max_amount: Balance,
			max_price: Price,
		) -> DispatchResultWithPostInfo {
			let taker = ensure_signed(origin)?;
			let ended = Self::do_take(taker, id, max_amount, max_price)?;
			Ok(Some(Self::take_weight(ended)).into())
		}

		/// Restart an auction past its tail or below its floor at the fresh oracle price times
		/// one plus the start premium; the insurance fund tips the caller `tip`, at most
		/// `MAX_TIP_SHARE` of what the lot is worth. An auction restarted `MaxRestarts` times
		/// already is retired instead: its lot goes to the insurance fund and the owner's
		/// unpaid tab through the debt stage (bounded by one account's liquidation).
		///
		/// Origin: signed. Emits `AuctionRestarted`, or `AuctionRetired` and what the debt
		/// stage emits. Errors: `BreakerActive`, `UnknownAuction`, `AuctionRunning`,
		/// `PriceNotFresh`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::restart().saturating_add(T::WeightInfo::liquidate(1)))]
		pub fn restart(origin: OriginFor<T>, id: AuctionId) -> DispatchResult {
			let keeper = ensure_signed(origin)?;
			Self::do_restart(keeper, id)
		}

		/// Move `amount` USD of the caller's margin cash into the insurance fund.
		///
		/// Origin: signed. Emits `InsuranceFunded`. Errors: `ZeroAmount`, and margin's when the
		/// caller lacks the cash or would fall below its initial margin.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::fund_insurance())]
		pub fn fund_insurance(origin: OriginFor<T>, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(amount > 0, Error::<T>::ZeroAmount);
			T::Margin::transfer_cash(&who, &Self::insurance_fund(), amount)?;
			Self::deposit_event(Event::InsuranceFunded { who, amount });
			Ok(())
		}

		/// Auto-deleverage: close the best-ranked positions in profit, which the chain picks
		/// (see `adl`), at their entry prices until the vault's socialized loss beyond
		/// `AdlThreshold` is recovered from the profit they give up, looking at `max` positions
		/// at most. Positions whose accounts cannot be deleveraged now are passed over, and the
		/// stale entries met on the way removed, each counted as a position looked at; the
		/// weight of positions not reached is refunded.
		///
		/// Origin: none, from validators' offchain workers only (`validate_unsigned`).
		/// Operational class. Emits `Deleveraged`, `DeleverageSkipped`, `StaleRankPruned`. Errors:
		/// `BreakerActive`, `NothingToDeleverage`, `EmptyBatch` (`max` zero), `BatchTooLarge`.
		#[pallet::call_index(7)]
		#[pallet::weight((
			T::WeightInfo::deleverage((*max).min(T::MaxBatch::get())),
			DispatchClass::Operational,
		))]
		pub fn deleverage(origin: OriginFor<T>, max: u32) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			let seen = Self::do_deleverage(max)?;
			let actual = T::WeightInfo::deleverage(seen);
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::No })
		}

		/// Set the auction parameters.
		///
		/// Origin: `GovernanceOrigin`. Emits `ParamsSet`. Errors: `InvalidParams`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: AuctionParamsOf<T>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::ensure_valid_params(&params)?;
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}
	}

	// `ValidateUnsigned` is deprecated in favour of `#[pallet::authorize]`, whose "general"
	// transactions polkadot.js cannot decode yet (ARCHITECTURE §6).
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// `liquidate`: valid only if the breaker runs and every account is liquidatable now.
		/// Tagged per account and block, so that the batches of several validators naming one
		/// account exclude each other; short-lived.
		///
		/// `deleverage`: only from the node's own offchain worker or in a block, and only while
		/// it passes `ensure_deleverageable`; one a block, not gossiped.
		fn validate_unsigned(source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let accounts = match call {
				Call::liquidate { accounts } => accounts,
				Call::deleverage { max } => return Self::validate_deleverage(source, *max),
				_ => return InvalidTransaction::Call.into(),
			};
			Self::ensure_batch(accounts).map_err(|_| InvalidTransaction::Custom(0))?;
			// The pool's re-check values the batch on one `Quotes`, as the call does.
			let mut quotes = QuotesOf::<T>::default();
			if !accounts.iter().all(|who| Self::verdict(who, &mut quotes).is_some()) {
				return InvalidTransaction::Stale.into();
			}
			let now = frame_system::Pallet::<T>::block_number();
			let mut builder = ValidTransaction::with_tag_prefix("PerpLiquidation")
				.priority(T::UnsignedPriority::get())
				.longevity(3)
				.propagate(true);
			for who in accounts.iter() {
				builder = builder.and_provides((who, now));
			}
			builder.build()
		}

		/// In a block, a `liquidate` batch is only checked for its shape and the breaker: the
		/// call re-checks every account itself (an account that recovered is skipped, and its
		/// weight refunded), so the per-account valuation of `validate_unsigned`, which the
		/// call's weight does not include, is not run a second time. `deleverage` is validated
		/// in full (its weight includes the check).
		///
		/// Either is refused (`ExhaustsResources`) once it would leave the block less than
		/// `FeedRoom` of operational space.
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			Self::ensure_feed_room(call)?;
			match call {
				Call::liquidate { accounts } => {
					Self::ensure_batch(accounts).map_err(|_| InvalidTransaction::Custom(0))?;
					if !Breaker::<T>::get().allows(Stage::Liquidation) {
						return Err(InvalidTransaction::Stale.into());
					}
					Ok(())
				},
				_ => Self::validate_unsigned(TransactionSource::InBlock, call).map(|_| ()),
			}
		}
	}
}
