//! The pallet's views (for the runtime APIs), its gate for new liquidations, and the pool's
//! checks behind `ValidateUnsigned`.

use crate::types::Stage;
use crate::{dispatchable_impls::Notional, pallet::*, types::Step, AdlView, AuctionView, FundView};
use frame_support::{pallet_prelude::*, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use perp_primitives::{AccountRisk, MarginReader};
use sp_runtime::traits::AccountIdConversion;

impl<T: Config> Pallet<T> {
	/// Whether the block can still take `call` (at its declared weight, with the extrinsic
	/// base) and then `FeedRoom`, by the rules of the operational class: within its
	/// `max_total`, and within its `reserved` share once the block is full.
	pub(crate) fn ensure_feed_room(call: &Call<T>) -> Result<(), TransactionValidityError> {
		use frame_support::dispatch::{DispatchClass, GetDispatchInfo};
		let limits = <T as frame_system::Config>::BlockWeights::get();
		let class = limits.get(DispatchClass::Operational);
		let needed = call
			.get_dispatch_info()
			.total_weight()
			.saturating_add(class.base_extrinsic)
			.saturating_add(T::FeedRoom::get());
		let consumed = frame_system::Pallet::<T>::block_weight();
		let operational = consumed.get(DispatchClass::Operational).saturating_add(needed);
		let total = consumed.total().saturating_add(needed);
		let within_class = class.max_total.is_none_or(|max| operational.all_lte(max));
		let within_block = total.all_lte(limits.max_block)
			|| class.reserved.is_none_or(|reserved| operational.all_lte(reserved));
		if within_class && within_block {
			Ok(())
		} else {
			Err(InvalidTransaction::ExhaustsResources.into())
		}
	}

	pub(crate) fn validate_deleverage(source: TransactionSource, max: u32) -> TransactionValidity {
		if !matches!(source, TransactionSource::Local | TransactionSource::InBlock) {
			return InvalidTransaction::BadSigner.into();
		}
		Self::ensure_deleverageable(max).map_err(|_| InvalidTransaction::Stale)?;
		let now = frame_system::Pallet::<T>::block_number();
		ValidTransaction::with_tag_prefix("PerpDeleverage")
			.priority(T::UnsignedPriority::get())
			.and_provides(now)
			.longevity(3)
			.propagate(false)
			.build()
	}

	/// The insurance fund's account: penalties are credited to its margin cash.
	pub fn insurance_fund() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Up to `limit` accounts liquidatable now, found through margin's risk index.
	pub fn candidates(limit: u32) -> alloc::vec::Vec<T::AccountId> {
		let mut quotes = QuotesOf::<T>::default();
		T::Margin::candidates(limit)
			.into_iter()
			.filter(|who| Self::verdict(who, &mut quotes).is_some())
			.collect()
	}

	/// The waterfall `who` would go through now, or `None` when it is not liquidatable:
	/// the liquidation is run and rolled back.
	pub fn path(who: &T::AccountId) -> Option<alloc::vec::Vec<Step>> {
		use frame_support::storage::{with_transaction, TransactionOutcome};
		let mut quotes = Default::default();
		let before = Self::verdict(who, &mut quotes)?;
		let outcome = with_transaction(|| {
			TransactionOutcome::Rollback(Ok::<_, DispatchError>(
				Self::run_waterfall(who, before, &mut Notional::<T>::new(), &mut quotes).ok(),
			))
		});
		outcome.ok().flatten().map(|outcome| outcome.path)
	}

	/// The open auctions with their prices now.
	pub fn auction_views() -> alloc::vec::Vec<AuctionView<T::AccountId, BlockNumberFor<T>>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut views: alloc::vec::Vec<_> = Auctions::<T>::iter()
			.map(|(id, auction)| AuctionView {
				id,
				price: Self::auction_price(&auction, now),
				needs_restart: Self::needs_restart(&auction, now),
				auction,
			})
			.collect();
		views.sort_by_key(|view| view.id);
		views
	}

	/// The insurance fund's account, cash and payouts in this block.
	pub fn fund_view() -> FundView<T::AccountId> {
		let account = Self::insurance_fund();
		let now = frame_system::Pallet::<T>::block_number();
		FundView {
			cash: T::Margin::cash(&account),
			account,
			paid_this_block: InsurancePaid::<T>::get().in_block(&now),
			cap_per_block: T::InsuranceCapPerBlock::get(),
		}
	}

	/// The vault's socialized loss, the threshold and, of the first `limit` positions in
	/// deleveraging order, those that may be deleveraged now.
	pub fn adl_view(limit: u32) -> AdlView<T::AccountId> {
		AdlView {
			socialized_loss: SocializedLoss::<T>::get(),
			threshold: T::AdlThreshold::get(),
			ranking: Self::adl_ranking(limit),
		}
	}

	/// The account that holds the collateral on auction.
	pub fn auction_account() -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating(b"auction")
	}

	/// Whether a new liquidation of `who` may start now: the breaker allows it, the account
	/// is below its maintenance margin at fresh prices (or still below its exit from a
	/// liquidation under way), and it holds positions or, with none
	/// left, a debt that no open auction of its collateral is raising yet.
	pub fn may_liquidate(who: &T::AccountId) -> bool {
		Self::verdict(who, &mut Default::default()).is_some()
	}

	/// `who` as liquidation values it, if a new liquidation of it may start now (see
	/// `may_liquidate`): one valuation of the account, on `quotes`, which the waterfall starts
	/// from.
	pub(crate) fn verdict(who: &T::AccountId, quotes: &mut QuotesOf<T>) -> Option<AccountRisk> {
		if !Breaker::<T>::get().allows(Stage::Liquidation) {
			return None;
		}
		T::Margin::risk(who, quotes).filter(Self::admits)
	}

	/// Whether an account valued at `risk` may be liquidated (see `may_liquidate`): below its
	/// maintenance margin, or in a liquidation under way that has not brought it above its
	/// exit (`AccountRisk::in_liquidation`).
	fn admits(risk: &AccountRisk) -> bool {
		(risk.margins.state().is_liquidatable() || risk.in_liquidation)
			&& (risk.margins.maintenance > 0 || (risk.cash < 0 && risk.open_auctions == 0))
	}
}
