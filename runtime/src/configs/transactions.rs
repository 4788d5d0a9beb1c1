//! How offchain workers build transactions: signed ones (oracle feeds, signed with a
//! validator's `orcl` key) and bare ones (unsigned liquidations).

use crate::{
	configs::BlockHashCount, priority::ChargeFeeWithPriority, Nonce, Runtime, RuntimeCall,
	Signature, SignedPayload, System, TxExtension, UncheckedExtrinsic,
};
use codec::Encode;
use frame_system::offchain::{
	AppCrypto, CreateBare, CreateSignedTransaction, CreateTransactionBase, SigningTypes,
};
use sp_runtime::{generic::Era, traits::Verify, SaturatedConversion};

impl SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<C> CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	/// Extrinsic format 4: polkadot.js cannot decode format 5 yet (ARCHITECTURE §6).
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare_legacy(call)
	}
}

impl<C> CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	/// A transaction with the extensions a wallet would use: mortal for about a quarter of an
	/// hour from the current block, no tip.
	fn create_signed_transaction<S: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: <Signature as Verify>::Signer,
		account: crate::AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// 128 blocks (about 13 minutes), well inside the 2,400 block hashes the chain keeps.
		const MORTALITY: u64 = 128;
		const _: () = assert!(MORTALITY < BlockHashCount::get() as u64);
		// The worker runs on the state of the block just imported: the transaction goes into
		// the next one, and its era starts at the block whose hash the chain can check.
		let current = System::block_number().saturated_into::<u64>().saturating_sub(1);
		let extension: TxExtension = (
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::mortal(MORTALITY, current)),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			ChargeFeeWithPriority::from_tip(0),
		);
		let payload = SignedPayload::new(call, extension)
			.map_err(|e| log::warn!(target: "runtime::offchain", "cannot sign: {e:?}"))
			.ok()?;
		let signature = payload.using_encoded(|bytes| S::sign(bytes, public))?;
		let (call, extension, _implicit) = payload.deconstruct();
		let address = sp_runtime::MultiAddress::Id(account);
		Some(UncheckedExtrinsic::new_signed(call, address, signature, extension))
	}
}
