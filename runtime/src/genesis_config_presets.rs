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
/// Smallest units per DOT (10 decimals).
pub const DOT_UNIT: Balance = 10_000_000_000;
/// DOT each dev account starts with.
pub const DOT_ENDOWMENT: Balance = 100_000 * DOT_UNIT;
/// The smallest DOT balance an account may hold.
pub const DOT_MIN_BALANCE: Balance = DOT_UNIT / 100;
/// USD the margin vault (the counterparty of every trade) starts with.
pub const VAULT_USD: Balance = 10_000_000 * USD_UNIT;
/// Smallest units of position size per BTC (8 decimals) and per ETH (18 decimals).
pub const BTC_UNIT: Balance = 100_000_000;
pub const ETH_UNIT: Balance = 1_000_000_000_000_000_000;

/// The margin markets at genesis: BTC-PERP (market 0) and ETH-PERP (market 1), 20x at most,
/// initial/maintenance margin 5%/2.5% up to 1M USD notional, 10%/5% up to 10M, 20%/10% above.
pub fn markets() -> Vec<pallet_margin::MarketParams<crate::configs::MaxTiers>> {
	use pallet_margin::{MarketParams, Tier};
	use sp_runtime::Perbill;
	let tiers = vec![
		Tier {
			up_to: 1_000_000 * USD_UNIT,
			initial: Perbill::from_percent(5),
			maintenance: Perbill::from_rational(25u32, 1_000u32),
		},
		Tier {
			up_to: 10_000_000 * USD_UNIT,
			initial: Perbill::from_percent(10),
			maintenance: Perbill::from_percent(5),
		},
		Tier {
			up_to: 100_000_000 * USD_UNIT,
			initial: Perbill::from_percent(20),
			maintenance: Perbill::from_percent(10),
		},
	];
	[(asset_ids::BTC, BTC_UNIT, 1_000 * BTC_UNIT), (asset_ids::ETH, ETH_UNIT, 20_000 * ETH_UNIT)]
		.into_iter()
		.map(|(asset, unit, cap)| MarketParams {
			asset,
			unit,
			tiers: tiers.clone().try_into().expect("three tiers fit"),
			max_leverage: 20,
			max_open_interest_long: cap,
			max_open_interest_short: cap,
			trading_fee: Perbill::from_parts(500_000), // 0.05%
			liquidation_discount: Perbill::from_percent(1),
			// One liquidation may close what restoring the account takes.
			max_partial_liquidation: Perbill::from_percent(100),
			// No position under 10 USD of notional.
			min_notional: 10 * USD_UNIT,
		})
		.collect()
}

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
	// The margin custody account holds each collateral asset's minimum balance (so that it
	// can never be reaped) and the vault's USD.
	let custody = pallet_margin::Pallet::<crate::Runtime>::custody_account();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.iter()
				.cloned()
				.map(|k| (k, ENDOWMENT))
				.chain([(custody.clone(), crate::EXISTENTIAL_DEPOSIT)])
				.collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root.clone()) },
		assets: pallet_assets::GenesisConfig {
			assets: vec![
				(asset_ids::USD, root.clone(), true, USD_MIN_BALANCE),
				(asset_ids::DOT, root, true, DOT_MIN_BALANCE),
			],
			metadata: vec![
				(asset_ids::USD, b"US Dollar".to_vec(), b"USD".to_vec(), 6),
				(asset_ids::DOT, b"Polkadot".to_vec(), b"DOT".to_vec(), 10),
			],
			accounts: endowed
				.iter()
				.cloned()
				.flat_map(|k| {
					[(asset_ids::USD, k.clone(), USD_ENDOWMENT), (asset_ids::DOT, k, DOT_ENDOWMENT)]
				})
				.chain([
					(asset_ids::USD, custody.clone(), VAULT_USD + USD_MIN_BALANCE),
					(asset_ids::DOT, custody, DOT_MIN_BALANCE),
				])
				.collect::<Vec<_>>(),
		},
		oracle: pallet_perp_oracle::GenesisConfig { feeders, assets: oracle_assets() },
		margin: pallet_margin::GenesisConfig {
			collateral: vec![
				(
					asset_ids::DOT,
					pallet_margin::CollateralParams {
						unit: DOT_UNIT,
						weight: sp_runtime::Perbill::from_percent(80),
						// A tenth of a DOT at least.
						min_amount: DOT_UNIT / 10,
					}
				),
				(
					asset_ids::NATIVE,
					pallet_margin::CollateralParams {
						unit: UNIT,
						weight: sp_runtime::Perbill::from_percent(50),
						min_amount: UNIT,
					}
				),
			],
			markets: markets(),
			vault: VAULT_USD,
		},
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

/// The storage of the preset named `id`: its patch applied onto the default genesis config, as
/// chain-spec building does. For native test harnesses (the runtime tests, the fuzzer).
#[cfg(feature = "std")]
pub fn preset_storage(id: &PresetId) -> Result<sp_runtime::Storage, String> {
	use sp_runtime::BuildStorage;
	fn merge(base: &mut Value, patch: Value) {
		match (base, patch) {
			(Value::Object(base), Value::Object(patch)) => {
				for (key, value) in patch {
					merge(base.entry(key).or_insert(Value::Null), value);
				}
			},
			(base, patch) => *base = patch,
		}
	}
	let patch = get_preset(id).ok_or_else(|| format!("no preset {id:?}"))?;
	let patch: Value = serde_json::from_slice(&patch).map_err(|e| e.to_string())?;
	let mut config =
		serde_json::to_value(RuntimeGenesisConfig::default()).map_err(|e| e.to_string())?;
	merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config).map_err(|e| e.to_string())?;
	config.build_storage()
}
