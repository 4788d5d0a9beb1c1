//! The `do_*` functions behind the calls.

use crate::pallet::*;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungibles::Mutate, tokens::Preservation},
};
use perp_primitives::{AssetId, Balance};
use sp_runtime::{traits::AccountIdConversion, ArithmeticError};

impl<T: Config> Pallet<T> {
	/// The account that holds all collateral.
	pub fn custody_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	fn ensure_collateral_asset(asset: AssetId) -> DispatchResult {
		ensure!(asset == T::SettlementAsset::get(), Error::<T>::UnknownAsset);
		Ok(())
	}

	pub(crate) fn do_deposit(who: T::AccountId, asset: AssetId, amount: Balance) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		Self::ensure_collateral_asset(asset)?;
		let balance = Collateral::<T>::get(&who, asset)
			.unwrap_or_default()
			.checked_add(amount)
			.ok_or(ArithmeticError::Overflow)?;
		let total = TotalCollateral::<T>::get(asset)
			.checked_add(amount)
			.ok_or(ArithmeticError::Overflow)?;
		T::Assets::transfer(
			asset,
			&who,
			&Self::custody_account(),
			amount,
			Preservation::Expendable,
		)?;
		Collateral::<T>::insert(&who, asset, balance);
		TotalCollateral::<T>::insert(asset, total);
		Self::deposit_event(Event::Deposited { who, asset, amount });
		Ok(())
	}

	pub(crate) fn do_withdraw(
		who: T::AccountId,
		asset: AssetId,
		amount: Balance,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		Self::ensure_collateral_asset(asset)?;
		let balance = Collateral::<T>::get(&who, asset)
			.unwrap_or_default()
			.checked_sub(amount)
			.ok_or(Error::<T>::InsufficientCollateral)?;
		// `TotalCollateral` is the sum of the accounts' balances (an invariant), so it cannot
		// fall below one account's withdrawal.
		let total = TotalCollateral::<T>::get(asset)
			.checked_sub(amount)
			.ok_or(ArithmeticError::Underflow)?;
		T::Assets::transfer(
			asset,
			&Self::custody_account(),
			&who,
			amount,
			Preservation::Expendable,
		)?;
		if balance == 0 {
			Collateral::<T>::remove(&who, asset);
		} else {
			Collateral::<T>::insert(&who, asset, balance);
		}
		TotalCollateral::<T>::insert(asset, total);
		Self::deposit_event(Event::Withdrawn { who, asset, amount });
		Ok(())
	}

	/// Checks the pallet's invariants (listed in the README).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungibles::Inspect;
		let mut sums: BTreeMap<AssetId, Balance> = BTreeMap::new();
		for (_, asset, balance) in Collateral::<T>::iter() {
			ensure!(balance > 0, "zero collateral entry");
			let sum = sums.entry(asset).or_default();
			*sum = sum.checked_add(balance).ok_or("collateral sum overflows")?;
		}
		for (asset, total) in TotalCollateral::<T>::iter() {
			ensure!(sums.remove(&asset).unwrap_or_default() == total, "collateral sum != total");
			ensure!(
				T::Assets::balance(asset, &Self::custody_account()) >= total,
				"custody holds less than the recorded collateral"
			);
		}
		ensure!(sums.is_empty(), "collateral recorded without a total");
		Ok(())
	}
}
