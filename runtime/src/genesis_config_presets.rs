//! Genesis presets: `development` (one validator, Alice) and `local_testnet` (Alice, Bob and
//! Charlie), both with funded dev accounts, the USD settlement asset and oracle feeders.

use crate::{
	asset_ids, AccountId, Balance, BalancesConfig, RuntimeGenesisConfig, SudoConfig, UNIT, USD_UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Native tokens each dev account starts with.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;
/// USD each dev account starts with.
pub const USD_ENDOWMENT: Balance = 1_000_000 * USD_UNIT;
/// The smallest USD balance an account may hold.
pub const USD_MIN_BALANCE: Balance = USD_UNIT / 100;

/// The assets the oracle prices from genesis on.
pub fn oracle_assets() -> Vec<crate::AssetId> {
	vec![asset_ids::NATIVE, asset_ids::BTC, asset_ids::ETH, asset_ids::DOT]
}

fn genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed: Vec<AccountId>,
	feeders: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root.clone()) },
		assets: pallet_assets::GenesisConfig {
			assets: vec![(asset_ids::USD, root, true, USD_MIN_BALANCE)],
			metadata: vec![(asset_ids::USD, b"US Dollar".to_vec(), b"USD".to_vec(), 6)],
			accounts: endowed
				.iter()
				.cloned()
				.map(|k| (asset_ids::USD, k, USD_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		oracle: pallet_perp_oracle::GenesisConfig { feeders, assets: oracle_assets() },
	})
}

fn authority(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(aura.public().into(), grandpa.public().into())
}

fn feeders() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.into_iter()
		.map(|k| k.to_account_id())
		.collect()
}

/// The `development` preset: Alice alone authors and finalizes.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		feeders(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie author and finalize.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		feeders(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
