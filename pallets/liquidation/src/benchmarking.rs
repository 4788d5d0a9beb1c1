//! Benchmarks of the liquidation pallet's calls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::{
	ensure,
	pallet_prelude::{TransactionSource, ValidateUnsigned},
	traits::{EnsureOrigin, Get, UnfilteredDispatchable},
};
use frame_system::RawOrigin;
use perp_primitives::MarginReader;

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_breaker() -> Result<(), BenchmarkError> {
		let origin =
			T::EmergencyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, BreakerLevel::Halted);

		assert_eq!(Breaker::<T>::get(), BreakerLevel::Halted);
		Ok(())
	}

	/// A batch of `n` accounts, each liquidatable with the most positions an account can hold.
	#[benchmark]
	fn liquidate(n: Linear<1, { T::MaxBatch::get() }>) {
		let positions = T::BenchmarkHelper::max_positions();
		let accounts = T::BenchmarkHelper::liquidatable_accounts(n, positions);
		assert!(accounts.iter().all(Pallet::<T>::may_liquidate));
		let batch = AccountsOf::<T>::truncate_from(accounts.clone());

		#[extrinsic_call]
		_(frame_system::RawOrigin::None, batch);

		assert!(accounts.iter().all(|who| !Pallet::<T>::may_liquidate(who)));
	}

	/// A full batch of `MaxBatch` accounts, each liquidatable with `p` positions: how the cost
	/// of a liquidation moves with the positions of the account (the capacity report).
	#[benchmark]
	fn liquidate_positions(p: Linear<1, { T::BenchmarkHelper::max_positions() }>) {
		let accounts = T::BenchmarkHelper::liquidatable_accounts(T::MaxBatch::get(), p);
		assert!(accounts.iter().all(Pallet::<T>::may_liquidate));
		let batch = AccountsOf::<T>::truncate_from(accounts.clone());

		#[extrinsic_call]
		liquidate(frame_system::RawOrigin::None, batch);

		assert!(accounts.iter().all(|who| !Pallet::<T>::may_liquidate(who)));
	}

	/// A batch of `n` accounts that recovered before it ran: each only re-checked.
	#[benchmark]
	fn skip(n: Linear<1, { T::MaxBatch::get() }>) {
		let accounts = T::BenchmarkHelper::healthy_accounts(n);
		assert!(!accounts.iter().any(Pallet::<T>::may_liquidate));
		let batch = AccountsOf::<T>::truncate_from(accounts);

		#[extrinsic_call]
		liquidate(frame_system::RawOrigin::None, batch);
	}

	/// A keeper liquidates an account with the most positions an account can hold.
	#[benchmark]
	fn liquidate_account() {
		let who = T::BenchmarkHelper::liquidatable_accounts(1, T::BenchmarkHelper::max_positions())
			.remove(0);
		let keeper: T::AccountId = account("keeper", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(keeper), who.clone());

		assert!(!Pallet::<T>::may_liquidate(&who));
	}

	/// Auto-deleveraging of `n` positions in profit, each closed in full (the socialized loss
	/// exceeds their profits), the chain's walk over `MaxMarkets` markets' profit orders and
	/// the check of `validate_unsigned` that every block runs on it included.
	#[benchmark]
	fn deleverage(n: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		let positions = T::BenchmarkHelper::profitable_positions(n);
		SocializedLoss::<T>::put(T::AdlThreshold::get().saturating_add(u64::MAX.into()));
		let call = Call::<T>::deleverage { max: n };

		#[block]
		{
			Pallet::<T>::validate_unsigned(TransactionSource::InBlock, &call)
				.map_err(|_| BenchmarkError::Stop("deleverage rejected"))?;
			call.dispatch_bypass_filter(RawOrigin::None.into())
				.map_err(|_| BenchmarkError::Stop("deleverage failed"))?;
		}

		for (who, market) in positions {
			ensure!(
				T::Margin::risk(&who, &mut Default::default())
					.is_none_or(|r| r.positions.iter().all(|p| p.market != market)),
				BenchmarkError::Stop("a target is still open")
			);
		}
		Ok(())
	}

	/// A take that raises the whole tab: the auction ends, the surplus returns to the owner,
	/// and the owner's remaining debt (none here) goes to the shortfall stage.
	#[benchmark]
	fn take() -> Result<(), BenchmarkError> {
		let id = started_auction::<T>()?;
		let auction = Auctions::<T>::get(id).ok_or(BenchmarkError::Stop("no auction"))?;
		let taker: T::AccountId = account("taker", 0, 0);
		T::BenchmarkHelper::fund_cash(&taker, auction.tab.saturating_mul(2));

		#[extrinsic_call]
		_(RawOrigin::Signed(taker), id, auction.lot, auction.top);

		assert!(Auctions::<T>::get(id).is_none());
		Ok(())
	}

	/// A restart past the tail, with the keeper's tip.
	#[benchmark]
	fn restart() -> Result<(), BenchmarkError> {
		let id = started_auction::<T>()?;
		let tail = Params::<T>::get().tail;
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(now + tail + 1u32.into());
		let keeper: T::AccountId = account("keeper", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(keeper), id);

		let auction = Auctions::<T>::get(id).ok_or(BenchmarkError::Stop("no auction"))?;
		assert_eq!(auction.started, now + tail + 1u32.into());
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut params = Params::<T>::get();
		params.tip = params.tip.saturating_add(1);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn fund_insurance() {
		let who: T::AccountId = account("donor", 0, 0);
		T::BenchmarkHelper::fund_cash(&who, 1_000);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 1_000);

		assert!(T::Margin::cash(&Pallet::<T>::insurance_fund()) >= 1_000);
	}

	/// Liquidates the helper's indebted account, which starts an auction; returns its id.
	fn started_auction<T: Config>() -> Result<AuctionId, BenchmarkError> {
		let who = T::BenchmarkHelper::indebted_account();
		let id = NextAuctionId::<T>::get();
		let batch = AccountsOf::<T>::truncate_from(alloc::vec![who]);
		Pallet::<T>::liquidate(frame_system::RawOrigin::None.into(), batch)
			.map_err(|_| BenchmarkError::Stop("liquidation failed"))?;
		ensure!(Auctions::<T>::contains_key(id), BenchmarkError::Stop("no auction started"));
		Ok(id)
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
