//! The runtime's transaction-priority and admission policy.
//!
//! Oracle feeds must reach every block, ahead of any ordinary transaction however large its tip,
//! and ahead of the liquidations (which need fresh prices). `pallet-transaction-payment` ranks by
//! fee and tip, so a large enough tip outranks anything. [`ChargeFeeWithPriority`] is that
//! pallet's `ChargeTransactionPayment`, with the same identifier and encoding (so wallets and
//! polkadot.js treat it as the extension they know), which also decides who may use the
//! operational class at all:
//!
//! - a signed operational transaction is either an oracle `feed` alone, which the oracle would
//!   accept now (`Oracle::check_feed`: a feeder, once a block), or comes from the sudo key
//!   (governance); anything else is refused at the pool (and in a block), so that no one else
//!   can fill the operational space, nor crowd the feeders out of it with a tip;
//! - priorities are clamped into bands: normal `0 ..= MAX_NORMAL_PRIORITY`; other operational
//!   transactions above it up to `MAX_OPERATIONAL_PRIORITY`; then the runtime's unsigned
//!   liquidations (`LIQUIDATION_PRIORITY`); and on top, at `FEED_PRIORITY`, the feeds (at most
//!   one per feeder a block).
//!
//! Liquidations, for their part, leave the feeds' room free in every block (the liquidation
//! pallet's `FeedRoom`).

use crate::{Runtime, RuntimeCall, RuntimeOrigin};
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{
	dispatch::{DispatchClass, DispatchInfo},
	pallet_prelude::TransactionSource,
	weights::Weight,
};
use pallet_transaction_payment::ChargeTransactionPayment;
use scale_info::{Type, TypeInfo};
use sp_runtime::{
	traits::{
		AsSystemOriginSigner, DispatchInfoOf, PostDispatchInfoOf, TransactionExtension,
		ValidateResult,
	},
	transaction_validity::{InvalidTransaction, TransactionPriority, TransactionValidityError},
	DispatchResult,
};

/// The highest priority a normal-class transaction can reach.
pub const MAX_NORMAL_PRIORITY: TransactionPriority = TransactionPriority::MAX / 4;
/// The highest priority an operational-class signed transaction can reach, feeds aside.
pub const MAX_OPERATIONAL_PRIORITY: TransactionPriority = TransactionPriority::MAX / 2;
/// The priority of an accepted oracle feed: above everything else, liquidations included.
pub const FEED_PRIORITY: TransactionPriority = TransactionPriority::MAX / 4 * 3;

/// The priority a signed transaction of `class` gets, from the fee-and-tip priority
/// `by_fee` that `pallet-transaction-payment` computed.
pub fn banded_priority(class: DispatchClass, by_fee: TransactionPriority) -> TransactionPriority {
	match class {
		DispatchClass::Normal => by_fee.min(MAX_NORMAL_PRIORITY),
		DispatchClass::Operational | DispatchClass::Mandatory => (MAX_NORMAL_PRIORITY + 1)
			.saturating_add(by_fee.min(MAX_OPERATIONAL_PRIORITY - MAX_NORMAL_PRIORITY - 1)),
	}
}

/// Who may use the operational class (see the module's documentation): `Ok(true)` for an
/// oracle feed the oracle accepts now, `Ok(false)` for any other transaction allowed there, and
/// the reason a transaction is refused.
fn admit(
	who: &crate::AccountId,
	call: &RuntimeCall,
	class: DispatchClass,
) -> Result<bool, TransactionValidityError> {
	if let RuntimeCall::Oracle(pallet_perp_oracle::Call::feed { values }) = call {
		return match crate::Oracle::check_feed(who, values) {
			Ok(()) => Ok(true),
			Err(e) if e == pallet_perp_oracle::Error::<Runtime>::NoPermission.into() => {
				Err(InvalidTransaction::BadSigner.into())
			},
			Err(e) if e == pallet_perp_oracle::Error::<Runtime>::AlreadyFed.into() => {
				Err(InvalidTransaction::Stale.into())
			},
			Err(_) => Err(InvalidTransaction::Call.into()),
		};
	}
	if class == DispatchClass::Normal || pallet_sudo::Key::<Runtime>::get().as_ref() == Some(who) {
		return Ok(false);
	}
	Err(InvalidTransaction::Call.into())
}

/// `ChargeTransactionPayment` with the admission and priority policy of this module.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq)]
pub struct ChargeFeeWithPriority(pub ChargeTransactionPayment<Runtime>);

impl ChargeFeeWithPriority {
	/// The extension charging the fee plus `tip`.
	pub fn from_tip(tip: crate::Balance) -> Self {
		Self(ChargeTransactionPayment::from(tip))
	}
}

impl core::fmt::Debug for ChargeFeeWithPriority {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		self.0.fmt(f)
	}
}

/// The type information is the wrapped extension's: on the wire and in the metadata this *is*
/// `ChargeTransactionPayment`.
impl TypeInfo for ChargeFeeWithPriority {
	type Identity = ChargeTransactionPayment<Runtime>;

	fn type_info() -> Type {
		ChargeTransactionPayment::<Runtime>::type_info()
	}
}

impl TransactionExtension<RuntimeCall> for ChargeFeeWithPriority {
	const IDENTIFIER: &'static str = "ChargeTransactionPayment";
	type Implicit = ();
	type Val = <ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::Val;
	type Pre = <ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::Pre;

	fn weight(&self, call: &RuntimeCall) -> Weight {
		self.0.weight(call)
	}

	fn validate(
		&self,
		origin: RuntimeOrigin,
		call: &RuntimeCall,
		info: &DispatchInfoOf<RuntimeCall>,
		len: usize,
		self_implicit: (),
		inherited_implication: &impl sp_runtime::traits::Implication,
		source: TransactionSource,
	) -> ValidateResult<Self::Val, RuntimeCall> {
		let (mut valid, val, origin) = self.0.validate(
			origin,
			call,
			info,
			len,
			self_implicit,
			inherited_implication,
			source,
		)?;
		// (Without a signer, the wrapped extension charged nothing and there is nothing to
		// admit: the runtime's unsigned transactions are validated by their pallets.)
		let feed = match origin.as_system_origin_signer() {
			Some(who) => admit(who, call, info.class)?,
			None => false,
		};
		valid.priority =
			if feed { FEED_PRIORITY } else { banded_priority(info.class, valid.priority) };
		Ok((valid, val, origin))
	}

	fn prepare(
		self,
		val: Self::Val,
		origin: &RuntimeOrigin,
		call: &RuntimeCall,
		info: &DispatchInfoOf<RuntimeCall>,
		len: usize,
	) -> Result<Self::Pre, TransactionValidityError> {
		self.0.prepare(val, origin, call, info, len)
	}

	fn post_dispatch_details(
		pre: Self::Pre,
		info: &DispatchInfo,
		post_info: &PostDispatchInfoOf<RuntimeCall>,
		len: usize,
		result: &DispatchResult,
	) -> Result<Weight, TransactionValidityError> {
		<ChargeTransactionPayment<Runtime> as TransactionExtension<RuntimeCall>>::post_dispatch_details(
			pre, info, post_info, len, result,
		)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn bands_do_not_overlap_at_their_extremes() {
		for by_fee in [0, 1, MAX_NORMAL_PRIORITY, MAX_OPERATIONAL_PRIORITY, u64::MAX] {
			let normal = banded_priority(DispatchClass::Normal, by_fee);
			let operational = banded_priority(DispatchClass::Operational, by_fee);
			assert!(normal <= MAX_NORMAL_PRIORITY);
			assert!(operational > MAX_NORMAL_PRIORITY);
			assert!(operational <= MAX_OPERATIONAL_PRIORITY);
		}
		// Within a band, fee and tip still order transactions.
		assert!(
			banded_priority(DispatchClass::Normal, 10) > banded_priority(DispatchClass::Normal, 9)
		);
		assert!(
			banded_priority(DispatchClass::Operational, 10)
				> banded_priority(DispatchClass::Operational, 9)
		);
	}
}
