//! Who acts: the twelve well-known dev accounts the development preset endows (Alice is sudo;
//! Alice, Bob and Charlie are the oracle's feeders), and the protocol's own accounts, which no
//! key signs for but which anyone can send funds to or name in a call.

use perpchain_runtime::{AccountId, Runtime};
use sp_core::sr25519;
use sp_keyring::Sr25519Keyring;
use std::sync::OnceLock;

/// Signers, by index: 0 Alice (sudo, feeder), 1 Bob, 2 Charlie (feeders), 3.. the others.
pub const SIGNERS: usize = 12;
/// The signers that feed the oracle at genesis.
pub const FEEDERS: [u8; 3] = [0, 1, 2];
/// The sudo key.
pub const SUDO: u8 = 0;

struct Keys {
	pairs: Vec<sr25519::Pair>,
	accounts: Vec<AccountId>,
}

fn keys() -> &'static Keys {
	static KEYS: OnceLock<Keys> = OnceLock::new();
	KEYS.get_or_init(|| {
		let keyring: Vec<Sr25519Keyring> = Sr25519Keyring::well_known().collect();
		Keys {
			pairs: keyring.iter().map(|k| k.pair()).collect(),
			accounts: keyring.iter().map(|k| k.to_account_id()).collect(),
		}
	})
}

/// The account of signer `index` (taken modulo the number of signers).
pub fn account(index: u8) -> AccountId {
	keys().accounts[usize::from(index) % SIGNERS].clone()
}

/// The key of signer `index` (taken modulo the number of signers).
pub fn pair(index: u8) -> &'static sr25519::Pair {
	&keys().pairs[usize::from(index) % SIGNERS]
}

/// The name of signer `index`, for reports.
pub fn name(index: u8) -> String {
	let keyring: Vec<Sr25519Keyring> = Sr25519Keyring::well_known().collect();
	format!("{:?}", keyring[usize::from(index) % SIGNERS])
}

/// The protocol's accounts: margin custody, the insurance fund and the auction account.
pub fn protocol_accounts() -> [AccountId; 3] {
	[
		pallet_margin::Pallet::<Runtime>::custody_account(),
		pallet_liquidation::Pallet::<Runtime>::insurance_fund(),
		pallet_liquidation::Pallet::<Runtime>::auction_account(),
	]
}

/// Every account an action may name: the signers, then the protocol's accounts.
pub fn all_accounts() -> Vec<AccountId> {
	keys().accounts.iter().cloned().chain(protocol_accounts()).collect()
}
