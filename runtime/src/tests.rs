//! Runtime-level tests: pallet integrity, genesis presets and the block-space policy.

use crate::{
	asset_ids, configs::RuntimeBlockWeights, genesis_config_presets, AllPalletsWithSystem, Assets,
	Aura, Balances, Grandpa, Oracle, Runtime, MAXIMUM_BLOCK_REF_TIME, NORMAL_DISPATCH_RATIO,
	SLOT_DURATION,
};
use frame_support::{dispatch::DispatchClass, traits::IntegrityTest, weights::Weight};
use perp_primitives::{PriceProvider, PriceStatus};
use sp_keyring::Sr25519Keyring;
use sp_runtime::Perbill;

/// Builds the storage of the named preset.
fn preset_storage(name: &str) -> sp_io::TestExternalities {
	genesis_config_presets::preset_storage(&name.into())
		.expect("preset builds")
		.into()
}

/// Runs `scenario` on the named preset, then the `try_state` of the pallets that hold money
/// and prices. (Not Aura's: these scenarios set the time without slots; the fuzzer runs every
/// pallet's, Aura's included, on real blocks.)
fn on_preset(name: &str, scenario: impl FnOnce()) {
	use crate::{Liquidation, Margin};
	use frame_support::traits::{TryState, TryStateSelect};
	preset_storage(name).execute_with(|| {
		scenario();
		let block = crate::System::block_number();
		<(Balances, Assets, Oracle, Margin, Liquidation)>::try_state(block, TryStateSelect::All)
			.expect("the invariants hold after the scenario");
	});
}

#[test]
fn inherents_are_built_in_extrinsic_format_4() {
	use codec::{Decode, Encode};
	use frame_support::inherent::ProvideInherent;
	use sp_runtime::generic::Preamble;
	/// Extrinsic format 4 (sp-runtime's `LEGACY_EXTRINSIC_FORMAT_VERSION`).
	const FORMAT_4: u8 = 4;
	type Timestamp = pallet_timestamp::Pallet<Runtime>;

	let mut data = sp_inherents::InherentData::new();
	data.put_data(Timestamp::INHERENT_IDENTIFIER, &1_006_000u64).expect("encodes");
	preset_storage(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
		let inherents = crate::inherent_extrinsics(&data);
		assert_eq!(inherents.len(), 1, "the timestamp");
		for xt in inherents {
			let Preamble::Bare(format) = xt.preamble else { panic!("an inherent is bare") };
			assert_eq!(format, FORMAT_4);
			// On the wire: the length, then the version byte of a bare format 4 extrinsic.
			let encoded = xt.encode();
			let len = codec::Compact::<u32>::decode(&mut &encoded[..]).expect("length");
			assert_eq!(encoded[len.encoded_size()], FORMAT_4);
			// The runtime decodes it back as the same inherent.
			let back = crate::UncheckedExtrinsic::decode(&mut &encoded[..]).expect("decodes");
			assert_eq!(back, xt);
			assert!(matches!(
				back.function,
				crate::RuntimeCall::Timestamp(pallet_timestamp::Call::set { now: 1_006_000 })
			));
		}
	});
}

#[test]
fn all_pallets_pass_their_integrity_tests() {
	sp_io::TestExternalities::default().execute_with(|| {
		<AllPalletsWithSystem as IntegrityTest>::integrity_test();
	});
}

#[test]
fn a_liquidation_that_restores_the_initial_margin_plus_the_buffer_always_ends_it() {
	// Restored means equity ≥ initial × (1 + Buffer) ≥ maintenance × (1 + Buffer): above the
	// exit, maintenance × (1 + ExitBuffer), only while the exit buffer is at most the buffer.
	let exit = <crate::Runtime as pallet_margin::Config>::ExitBuffer::get();
	let buffer = <crate::Runtime as pallet_liquidation::Config>::Buffer::get();
	assert!(exit <= buffer, "{exit:?} > {buffer:?}");
}

#[test]
fn presets_are_listed_and_unknown_ones_are_not() {
	let names = genesis_config_presets::preset_names();
	assert_eq!(names.len(), 2);
	assert!(genesis_config_presets::get_preset(&"no-such-preset".into()).is_none());
}

#[test]
fn development_preset_builds_a_one_validator_chain_with_funded_accounts() {
	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		check_common_genesis();
	});
}

#[test]
fn local_testnet_preset_builds_a_three_validator_chain() {
	on_preset(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET, || {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 3);
		assert_eq!(Grandpa::grandpa_authorities().len(), 3);
		check_common_genesis();
	});
}

fn check_common_genesis() {
	for key in Sr25519Keyring::well_known() {
		let who = key.to_account_id();
		assert_eq!(Balances::free_balance(&who), genesis_config_presets::ENDOWMENT);
		assert_eq!(Assets::balance(asset_ids::USD, &who), genesis_config_presets::USD_ENDOWMENT);
	}
	let feeders = pallet_perp_oracle::Feeders::<Runtime>::get();
	for key in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
		assert!(feeders.contains(&key.to_account_id()));
	}
	assert_eq!(feeders.len(), 3);
	for asset in genesis_config_presets::oracle_assets() {
		assert!(pallet_perp_oracle::Assets::<Runtime>::contains_key(asset));
		assert_eq!(Oracle::price(asset).status, PriceStatus::Missing);
	}
	// What `OracleApi::prices` reports: every listed asset, none priced yet.
	let views = Oracle::asset_views();
	assert_eq!(views.len(), genesis_config_presets::oracle_assets().len());
	assert!(views.iter().all(|v| v.price.status == PriceStatus::Missing && v.feeders == 0));
	assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
	check_margin_genesis();
}

/// Margin: BTC-PERP and ETH-PERP, DOT and native collateral, the vault funded, and the custody
/// account holding exactly the vault plus each asset's reserve.
fn check_margin_genesis() {
	use frame_support::traits::fungibles::Inspect;
	use genesis_config_presets::{DOT_ENDOWMENT, DOT_MIN_BALANCE, USD_MIN_BALANCE, VAULT_USD};
	let markets = crate::Margin::market_views();
	assert_eq!(
		markets.iter().map(|m| (m.market, m.asset)).collect::<Vec<_>>(),
		vec![(0, asset_ids::BTC), (1, asset_ids::ETH)]
	);
	for asset in [asset_ids::DOT, asset_ids::NATIVE] {
		assert!(pallet_margin::CollateralAssets::<Runtime>::contains_key(asset));
	}
	assert_eq!(pallet_margin::Vault::<Runtime>::get(), VAULT_USD as i128);
	let custody = crate::Margin::custody_account();
	type Funds = crate::configs::NativeAndAssets;
	assert_eq!(Funds::balance(asset_ids::USD, &custody), VAULT_USD + USD_MIN_BALANCE);
	assert_eq!(pallet_margin::CustodyReserve::<Runtime>::get(asset_ids::USD), USD_MIN_BALANCE);
	assert_eq!(pallet_margin::CustodyReserve::<Runtime>::get(asset_ids::DOT), DOT_MIN_BALANCE);
	assert_eq!(
		pallet_margin::CustodyReserve::<Runtime>::get(asset_ids::NATIVE),
		crate::EXISTENTIAL_DEPOSIT
	);
	for key in Sr25519Keyring::well_known() {
		assert_eq!(Funds::balance(asset_ids::DOT, &key.to_account_id()), DOT_ENDOWMENT);
	}
}

#[test]
fn blocks_are_six_seconds_with_two_seconds_of_ref_time() {
	assert_eq!(SLOT_DURATION, 6_000);
	sp_io::TestExternalities::default().execute_with(|| {
		assert_eq!(Aura::slot_duration(), 6_000);
	});
	let weights = RuntimeBlockWeights::get();
	assert_eq!(weights.max_block.ref_time(), MAXIMUM_BLOCK_REF_TIME);
	assert_eq!(MAXIMUM_BLOCK_REF_TIME, 2_000_000_000_000);
}

#[test]
fn normal_class_is_limited_to_75_percent_and_the_rest_is_reserved_for_operational() {
	let weights = RuntimeBlockWeights::get();
	let max = weights.max_block.ref_time();
	assert_eq!(NORMAL_DISPATCH_RATIO, Perbill::from_percent(75));

	let normal = weights.get(DispatchClass::Normal);
	assert_eq!(normal.max_total.expect("normal class is capped").ref_time(), max / 4 * 3);
	assert_eq!(normal.reserved.map(|w| w.ref_time()).unwrap_or(0), 0);

	let operational = weights.get(DispatchClass::Operational);
	assert_eq!(operational.max_total.expect("operational class is capped").ref_time(), max);
	assert_eq!(operational.reserved.expect("operational space is reserved").ref_time(), max / 4);
	// An operational extrinsic may be larger than any normal one.
	assert!(
		operational.max_extrinsic.unwrap().ref_time() > normal.max_extrinsic.unwrap().ref_time()
	);
}

#[test]
fn an_oracle_feed_outranks_any_normal_transaction_whatever_its_tip() {
	use crate::{
		priority::{ChargeFeeWithPriority, MAX_NORMAL_PRIORITY},
		RuntimeCall, RuntimeOrigin,
	};
	use codec::Encode;
	use frame_support::dispatch::GetDispatchInfo;
	use perp_primitives::Price;
	use sp_runtime::{
		traits::{TransactionExtension, TxBaseImplication},
		transaction_validity::TransactionSource,
	};

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		let priority = |who: Sr25519Keyring, call: RuntimeCall, tip: u128| {
			let info = call.get_dispatch_info();
			let len = call.encoded_size();
			let (valid, _, _) = ChargeFeeWithPriority::from_tip(tip)
				.validate(
					RuntimeOrigin::signed(who.to_account_id()),
					&call,
					&info,
					len,
					(),
					&TxBaseImplication(&call),
					TransactionSource::External,
				)
				.expect("the signer can pay");
			valid.priority
		};
		let feed = RuntimeCall::Oracle(pallet_perp_oracle::Call::feed {
			values: vec![(asset_ids::BTC, Price::from_u32(60_000))].try_into().unwrap(),
		});
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: 1,
		});
		// Eve tips her whole balance; Alice's feed tips nothing.
		let rich_tip = genesis_config_presets::ENDOWMENT / 2;
		let normal = priority(Sr25519Keyring::Eve, transfer, rich_tip);
		let feed = priority(Sr25519Keyring::Alice, feed, 0);
		assert!(normal <= MAX_NORMAL_PRIORITY, "normal priority {normal} escaped its band");
		assert!(feed > normal, "feed priority {feed} <= normal priority {normal}");
	});
}

#[test]
fn an_offchain_worker_feed_is_a_valid_operational_transaction() {
	use crate::{priority::MAX_NORMAL_PRIORITY, Executive, System, UncheckedExtrinsic};
	use codec::Decode;
	use frame_system::offchain::{SendSignedTransaction, Signer};
	use pallet_perp_oracle::offchain::{crypto::FeederId, KEY_TYPE};
	use perp_primitives::Price;
	use sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt};
	use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
	use sp_runtime::{
		generic::Preamble, traits::Header as _, transaction_validity::TransactionSource,
	};

	let mut ext = preset_storage(sp_genesis_builder::DEV_RUNTIME_PRESET);
	let keystore = MemoryKeystore::new();
	keystore.sr25519_generate_new(KEY_TYPE, Some("//Alice")).unwrap();
	ext.register_extension(KeystoreExt::new(keystore));
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(TransactionPoolExt::new(pool));

	ext.execute_with(|| {
		let values = vec![(asset_ids::BTC, Price::from_u32(60_000))];
		// An offchain worker's state changes are thrown away (the signer bumps the sender's
		// nonce after submitting): roll them back, keep what reached the pool.
		let sent = frame_support::storage::with_transaction(|| {
			let sent = Signer::<Runtime, FeederId>::all_accounts().send_signed_transaction(|_| {
				pallet_perp_oracle::Call::feed { values: values.clone().try_into().unwrap() }
			});
			frame_support::storage::TransactionOutcome::Rollback(
				Ok::<_, sp_runtime::DispatchError>(sent),
			)
		})
		.unwrap();
		assert_eq!(sent.len(), 1);
		assert_eq!(sent[0].1, Ok(()));
		assert_eq!(sent[0].0.id, Sr25519Keyring::Alice.to_account_id());

		let raw = pool_state.write().transactions.pop().expect("one feed submitted");
		let xt = UncheckedExtrinsic::decode(&mut &raw[..]).expect("a runtime extrinsic");
		let Preamble::Signed(ref address, ..) = xt.preamble else { panic!("not signed") };
		assert_eq!(*address, Sr25519Keyring::Alice.to_account_id().into());

		// The pool's checks: signature, era, nonce, weight, fee, and the operational band.
		// Validated on a throwaway state, as the pool does.
		let parent = System::block_hash(0);
		let validity = frame_support::storage::with_transaction(|| {
			let validity =
				Executive::validate_transaction(TransactionSource::Local, xt.clone(), parent);
			frame_support::storage::TransactionOutcome::Rollback(
				Ok::<_, sp_runtime::DispatchError>(validity),
			)
		})
		.unwrap()
		.expect("the worker's feed is valid");
		assert!(validity.priority > MAX_NORMAL_PRIORITY);

		// Included in a block, it dispatches and records Alice's value.
		let header = crate::Header::new(
			1,
			Default::default(),
			Default::default(),
			parent,
			Default::default(),
		);
		Executive::initialize_block(&header);
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));
		let alice = Sr25519Keyring::Alice.to_account_id();
		let btc = pallet_perp_oracle::Assets::<Runtime>::get(asset_ids::BTC).unwrap_or_default();
		assert_eq!(
			btc.iter().find(|v| v.feeder == alice).map(|v| v.value.price),
			Some(Price::from_u32(60_000))
		);
	});
}

/// Block `block` (6 s after block `block - 1`, block 1 at 1,000,000 ms): Alice and Bob feed BTC
/// at `btc` and DOT at 5 USD.
fn feed_btc_at(block: u32, btc: u32) {
	use perp_primitives::Price;
	crate::System::set_block_number(block);
	pallet_timestamp::Now::<Runtime>::put(1_000_000 + 6_000 * u64::from(block - 1));
	for feeder in [Sr25519Keyring::Alice, Sr25519Keyring::Bob] {
		let values =
			vec![(asset_ids::BTC, Price::from_u32(btc)), (asset_ids::DOT, Price::from_u32(5))];
		let values = values.try_into().unwrap();
		assert!(Oracle::feed(crate::RuntimeOrigin::signed(feeder.to_account_id()), values).is_ok());
	}
}

#[test]
fn a_partial_liquidation_is_planned_from_one_valuation_and_the_real_books_agree() {
	use crate::{Liquidation, Margin, RuntimeOrigin, System, USD_UNIT};
	use frame_support::traits::UnfilteredDispatchable;
	use perp_primitives::{MarginReader, Price};

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		System::set_block_number(1);
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(65_000));
		Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(3_000));
		let eve = Sr25519Keyring::Eve.to_account_id();
		let origin = || RuntimeOrigin::signed(eve.clone());
		assert!(Margin::deposit(origin(), asset_ids::USD, 10_000 * USD_UNIT).is_ok());
		// 2 BTC and 20 ETH long: 190,000 USD of notional, about 19x.
		let (btc, eth) = (200_000_000i128, 20 * genesis_config_presets::ETH_UNIT as i128);
		assert!(Margin::trade(origin(), 0, btc).is_ok());
		assert!(Margin::trade(origin(), 1, eth).is_ok());

		// Both fall 3%: below maintenance (≈ 4,600), above half of it, and equity (≈ 4,200)
		// covers the 2% that closing everything costs (≈ 3,700): partial.
		Oracle::set_fresh_price(asset_ids::BTC, Price::from_u32(63_050));
		Oracle::set_fresh_price(asset_ids::ETH, Price::from_u32(2_910));
		let before = Margin::risk(&eve, &mut Default::default()).expect("fresh prices").margins;
		assert!(before.state().is_liquidatable());
		let call = pallet_liquidation::Call::<Runtime>::liquidate {
			accounts: vec![eve.clone()].try_into().unwrap(),
		};
		assert!(call.dispatch_bypass_filter(RuntimeOrigin::none()).is_ok());

		// The smallest closes that restore the initial margin plus the buffer, largest
		// maintenance margin first: all of the BTC (its close gains 4,426 against a shortage
		// of 5,931) and then about 74% of the ETH, in one margin call.
		assert_eq!(Margin::position(&eve, 0), None);
		let eth_left = Margin::position(&eve, 1).map_or(0, |p| p.size);
		assert!(eth_left > eth / 4 && eth_left < eth * 3 / 10, "{eth_left}");
		let after = Margin::risk(&eve, &mut Default::default()).expect("fresh prices");
		let liquidated = System::events().into_iter().find_map(|record| match record.event {
			crate::RuntimeEvent::Liquidation(pallet_liquidation::Event::Liquidated {
				closes,
				full,
				equity,
				..
			}) => Some((closes.len(), full, equity)),
			_ => None,
		});
		assert_eq!(liquidated, Some((2, false, after.margins.equity)));
		// The plan charged each close its discount and penalty on the closed notional,
		// rounded up: the real books lost no more.
		let closed_eth =
			(eth - eth_left) as u128 * 2_910 * USD_UNIT / genesis_config_presets::ETH_UNIT;
		let closed = 63_050 * 2 * USD_UNIT + closed_eth;
		let equity = after.margins.equity;
		assert!(equity >= before.equity - (closed / 50 + 4) as i128, "{before:?} {after:?}");
		// Restored: equity at least the initial margin plus 10%, and the liquidation is over.
		let target = after.margins.initial + after.margins.initial / 10;
		assert!(equity >= target as i128, "{after:?}");
		assert!(!after.in_liquidation);
		assert!(!Liquidation::may_liquidate(&eve));
	});
}

#[test]
// Liquidations are `ValidateUnsigned` transactions (see ARCHITECTURE §6).
#[allow(deprecated)]
fn an_unsigned_batch_liquidates_a_trader_below_maintenance_through_the_real_margin_pallet() {
	use crate::{
		configs::liquidation::LIQUIDATION_PRIORITY, priority::MAX_OPERATIONAL_PRIORITY, Margin,
		RuntimeOrigin, System, USD_UNIT,
	};
	use frame_support::{pallet_prelude::ValidateUnsigned, traits::UnfilteredDispatchable};
	use perp_primitives::MarginReader;
	use sp_runtime::transaction_validity::TransactionSource;

	// Pinned: above every signed transaction, operational ones included.
	const { assert!(LIQUIDATION_PRIORITY > MAX_OPERATIONAL_PRIORITY) };

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		feed_btc_at(1, 65_000);
		let eve = Sr25519Keyring::Eve.to_account_id();
		let dave = Sr25519Keyring::Dave.to_account_id();
		for (who, usd) in [(&eve, 10_000), (&dave, 100_000)] {
			assert!(Margin::deposit(
				RuntimeOrigin::signed(who.clone()),
				asset_ids::USD,
				usd * USD_UNIT
			)
			.is_ok());
			// 3 BTC long: about 19.5x for Eve, 2x for Dave.
			assert!(Margin::trade(RuntimeOrigin::signed(who.clone()), 0, 300_000_000).is_ok());
		}

		// Next block, BTC falls 4.6%: Eve is deep below maintenance, Dave is fine.
		feed_btc_at(2, 62_000);
		assert_eq!(Margin::health(&eve), Some(perp_primitives::HealthState::Liquidatable));
		assert_eq!(Margin::candidates(10), vec![eve.clone()]);

		let accounts = vec![eve.clone()].try_into().unwrap();
		let call = pallet_liquidation::Call::<Runtime>::liquidate { accounts };
		let valid = crate::Liquidation::validate_unsigned(TransactionSource::External, &call)
			.expect("Eve is liquidatable");
		assert_eq!(valid.priority, LIQUIDATION_PRIORITY);
		let dave_only = pallet_liquidation::Call::<Runtime>::liquidate {
			accounts: vec![dave.clone()].try_into().unwrap(),
		};
		assert!(
			crate::Liquidation::validate_unsigned(TransactionSource::External, &dave_only).is_err()
		);

		assert!(call.dispatch_bypass_filter(RuntimeOrigin::none()).is_ok());
		assert_eq!(Margin::position(&eve, 0), None, "closed in full below half maintenance");
		assert!(Margin::position(&dave, 0).is_some());
		// Closed at 62,000 − 1%: the loss and the 1% penalty (≈ 1,841 USD, to the fund) leave
		// Eve ≈ 2,800 USD in debt with no collateral: the fund pays what it holds (her penalty)
		// and the vault absorbs the rest.
		assert_eq!(Margin::cash(&eve), 0, "no debt is left behind");
		let settled = System::events().into_iter().find_map(|record| match record.event {
			crate::RuntimeEvent::Liquidation(pallet_liquidation::Event::ShortfallSettled {
				who,
				insurance,
				socialized,
			}) if who == eve => Some((insurance, socialized)),
			_ => None,
		});
		let (insurance, socialized) = settled.expect("Eve's shortfall was settled");
		assert!(insurance > 1_800 * USD_UNIT && socialized > 900 * USD_UNIT, "{settled:?}");
		assert_eq!(Margin::cash(&crate::Liquidation::insurance_fund()), 0);
	});
}

#[test]
// Liquidations are `ValidateUnsigned` transactions (see ARCHITECTURE §6).
#[allow(deprecated)]
fn a_bankrupt_traders_dot_goes_to_auction_and_a_keeper_take_repays_the_debt() {
	use crate::{
		genesis_config_presets::DOT_UNIT, AccountId, Liquidation, Margin, RuntimeOrigin, USD_UNIT,
	};
	use frame_support::traits::UnfilteredDispatchable;
	use pallet_liquidation::Step;
	use perp_primitives::{MarginReader, Price};

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		feed_btc_at(1, 65_000);
		let eve = Sr25519Keyring::Eve.to_account_id();
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		let signed = |who: &AccountId| RuntimeOrigin::signed(who.clone());
		// 100 USD and 800 DOT (3,200 USD of weighted collateral) behind a 1 BTC long.
		assert!(Margin::deposit(signed(&eve), asset_ids::USD, 100 * USD_UNIT).is_ok());
		assert!(Margin::deposit(signed(&eve), asset_ids::DOT, 800 * DOT_UNIT).is_ok());
		assert!(Margin::trade(signed(&eve), 0, 100_000_000).is_ok());

		// BTC −4.6%: equity ≈ 270, under half of the 1,550 maintenance margin.
		feed_btc_at(2, 62_000);
		let path = Liquidation::path(&eve).expect("Eve is liquidatable");
		assert!(matches!(path.as_slice(), [Step::Close { .. }, Step::Auction { .. }]), "{path:?}");
		// The preview changed nothing.
		assert!(Margin::position(&eve, 0).is_some());
		assert_eq!(Liquidation::candidates(10), vec![eve.clone()]);

		let call = pallet_liquidation::Call::<Runtime>::liquidate {
			accounts: vec![eve.clone()].try_into().unwrap(),
		};
		assert!(call.dispatch_bypass_filter(RuntimeOrigin::none()).is_ok());
		assert_eq!(Margin::position(&eve, 0), None);
		// The debt (≈ 4,166 USD) exceeds the DOT's worth: all 800 DOT raise all of it.
		let debt = Margin::cash(&eve);
		assert!(debt < -(4_000 * USD_UNIT as i128), "{debt}");
		let views = Liquidation::auction_views();
		assert_eq!(views.len(), 1);
		let auction = &views[0].auction;
		assert_eq!((auction.lot, auction.tab), (800 * DOT_UNIT, debt.unsigned_abs()));
		assert_eq!(views[0].price, Price::from_rational(55, 10));
		assert_eq!(Margin::collateral(&eve, asset_ids::DOT), 0);
		assert_eq!(Liquidation::path(&eve), None, "an auction is raising the debt");

		// Ferdie takes it all at 5.50: the tab caps the payment; the rest returns to Eve.
		assert!(Margin::deposit(signed(&ferdie), asset_ids::USD, 10_000 * USD_UNIT).is_ok());
		assert!(Liquidation::take(signed(&ferdie), 0, 800 * DOT_UNIT, views[0].price).is_ok());
		assert_eq!(Margin::cash(&eve), 0);
		let bought = Margin::collateral(&ferdie, asset_ids::DOT);
		assert!(bought > 750 * DOT_UNIT && bought < 800 * DOT_UNIT, "{bought}");
		assert_eq!(Margin::collateral(&eve, asset_ids::DOT), 800 * DOT_UNIT - bought);
		assert!(Liquidation::auction_views().is_empty());
	});
}

#[test]
fn nothing_is_liquidated_while_a_price_is_frozen() {
	use crate::{Liquidation, Margin, RuntimeOrigin, USD_UNIT};

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		feed_btc_at(1, 65_000);
		let eve = Sr25519Keyring::Eve.to_account_id();
		assert!(Margin::deposit(
			RuntimeOrigin::signed(eve.clone()),
			asset_ids::USD,
			10_000 * USD_UNIT
		)
		.is_ok());
		assert!(Margin::trade(RuntimeOrigin::signed(eve.clone()), 0, 300_000_000).is_ok());

		// A 30% drop in one block trips the oracle's breaker (25% a block at most): Frozen.
		feed_btc_at(2, 45_500);
		assert_eq!(Oracle::price(asset_ids::BTC).status, PriceStatus::Frozen);
		assert!(!Liquidation::may_liquidate(&eve));
		assert!(Liquidation::candidates(10).is_empty());
		assert_eq!(Liquidation::path(&eve), None);
		assert!(Margin::position(&eve, 0).is_some());
		assert!(Liquidation::liquidate_account(RuntimeOrigin::signed(eve.clone()), eve.clone())
			.is_err());
		assert!(Margin::position(&eve, 0).is_some());
	});
}

#[test]
fn a_full_liquidation_batch_fits_the_operational_class_by_its_benchmarked_weight() {
	use frame_support::traits::Get;
	use pallet_liquidation::WeightInfo;
	type Weights = <Runtime as pallet_liquidation::Config>::WeightInfo;

	let max_batch: u32 = <Runtime as pallet_liquidation::Config>::MaxBatch::get();
	let operational = RuntimeBlockWeights::get().get(DispatchClass::Operational).clone();
	let max = operational.max_extrinsic.expect("operational extrinsics are bounded");
	let batch = Weights::liquidate(max_batch).saturating_add(operational.base_extrinsic);
	assert!(batch.all_lte(max), "a batch of {max_batch} weighs {batch:?}, more than {max:?}");
	assert_eq!(crate::Liquidation::batch_size(), max_batch);
}

#[test]
// Deleveraging is a `ValidateUnsigned` transaction (see ARCHITECTURE §6).
#[allow(deprecated)]
fn beyond_the_threshold_a_bankrupt_traders_loss_is_recovered_from_the_best_ranked_short() {
	use crate::{
		configs::liquidation::ADL_THRESHOLD, AccountId, Liquidation, Margin, RuntimeOrigin,
		USD_UNIT,
	};
	use frame_support::{pallet_prelude::ValidateUnsigned, traits::UnfilteredDispatchable};
	use perp_primitives::MarginReader;
	use sp_runtime::transaction_validity::TransactionSource;

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		let [eve, dave, charlie] =
			[Sr25519Keyring::Eve, Sr25519Keyring::Dave, Sr25519Keyring::Charlie]
				.map(|k| k.to_account_id());
		let signed = |who: &AccountId| RuntimeOrigin::signed(who.clone());
		// Charlie 3 BTC short from 64,500 on 100,000 USD; Eve 3 BTC long at ≈ 19.5x and Dave
		// 1 BTC short on 10,000 USD, both from 65,000: Dave's higher entry ranks him first
		// (PnL% is the order, whatever the sizes).
		feed_btc_at(1, 64_500);
		assert!(Margin::deposit(signed(&charlie), asset_ids::USD, 100_000 * USD_UNIT).is_ok());
		assert!(Margin::trade(signed(&charlie), 0, -300_000_000).is_ok());
		feed_btc_at(2, 65_000);
		for (who, size) in [(&eve, 300_000_000), (&dave, -100_000_000)] {
			assert!(Margin::deposit(signed(who), asset_ids::USD, 10_000 * USD_UNIT).is_ok());
			assert!(Margin::trade(signed(who), 0, size).is_ok());
		}
		// The vault already carries losses up to the threshold.
		pallet_liquidation::SocializedLoss::<Runtime>::put(ADL_THRESHOLD);

		feed_btc_at(3, 62_000);
		let liquidate = pallet_liquidation::Call::<Runtime>::liquidate {
			accounts: vec![eve.clone()].try_into().unwrap(),
		};
		assert!(liquidate.dispatch_bypass_filter(RuntimeOrigin::none()).is_ok());
		let excess = Liquidation::adl_excess();
		assert!(excess > 900 * USD_UNIT, "Eve's socialized loss is the excess: {excess}");

		let view = Liquidation::adl_view(10);
		let ranked: Vec<_> = view.ranking.iter().map(|t| t.who.clone()).collect();
		assert_eq!(ranked, vec![dave.clone(), charlie.clone()]);
		// The call names no targets: the chain takes Dave first, whoever submits it.
		let call = pallet_liquidation::Call::<Runtime>::deleverage { max: 2 };
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		assert!(Liquidation::validate_unsigned(TransactionSource::External, &call).is_err());

		let cash_before = Margin::cash(&dave);
		assert!(call.dispatch_bypass_filter(RuntimeOrigin::none()).is_ok());
		// Dave's 3,000 USD profit covers the excess: only part of his short closes, at his
		// entry, so his cash does not fall; Charlie is untouched.
		assert_eq!(pallet_liquidation::SocializedLoss::<Runtime>::get(), ADL_THRESHOLD);
		let left = Margin::position(&dave, 0).expect("part of the short is left").size;
		assert!(left > -100_000_000 && left < -60_000_000, "{left}");
		assert!(Margin::cash(&dave) >= cash_before);
		assert!(Margin::cash(&dave) - cash_before < 10, "no more than rounding");
		assert_eq!(Margin::position(&charlie, 0).map(|p| p.size), Some(-300_000_000));
		assert_eq!(Liquidation::adl_excess(), 0);
	});
}

/// Liquidations per block under congestion, as the weights in use give them; pinned at the
/// measured value (benchmarks/CAPACITY.md), so that a heavier liquidation fails here. (The
/// benchmarked account holds every collateral asset and starts `MaxAuctionsPerLiquidation`
/// auctions since issue 17: 253 on the weights of 2026-12-01, 240 before on a lighter case;
/// 201 on those of 2026-12-02, once every closed position also leaves the ADL profit order;
/// 184 on the same weights once the feeds' room counts one feed of every asset per feeder, the
/// real bound, instead of one feed of 8 values when a feeder could send two; 358 on the weights
/// of the project pallets measured on the production-profile host at a552759; 338 with the
/// database's costs measured instead of the SDK's constants, reads dearer and writes cheaper,
/// which makes the feeds' room heavier, 108 ms instead of 73; 441 once a liquidation's closes
/// leave their profit-order entries stale, 6 writes an account instead of 14; 584 once a batch
/// reads markets, collateral and prices once (`Quotes`) and a new auction is not looked up;
/// 695 once the open-auction count and the crossed mark live in the margin record, one read
/// and two writes an account; 860 with batches of 32 accounts instead of 16, which share the
/// batch's fixed part; 1,397 with an asset's oracle values in one record (a feed at its bounds
/// 36 reads instead of 231), batches of 64, and every project pallet's weights measured on a
/// faster machine, an Intel Xeon instead of an AMD EPYC; 2,501 with the database's costs
/// measured on a production-profile node instead of the debug-profile one, a read 7.0 µs
/// instead of 18.8 and a write 15.1 µs instead of 41.6.)
const PINNED_LIQUIDATIONS_PER_BLOCK: u32 = 2_501;
/// The same for accounts with one position each, whose batches report less than they declare
/// (3,257 with the database's costs measured on the production-profile node; 1,666 with
/// batches of 64, one oracle record an asset and the Xeon's weights; 1,190 with batches of 32;
/// 884 with the auction count and crossed mark in the record; 679 with `Quotes`; 567 with
/// stale profit-order entries, one write less but the weights' fixed part measured heavier;
/// 584 with the measured database costs; 652 on the production host's weights with the SDK's
/// constants; 270 on the debug host's, 296 with the smaller feed room, 305 before the profit
/// order, 348 when the benchmarked account held one collateral asset).
const PINNED_ONE_POSITION_LIQUIDATIONS_PER_BLOCK: u32 = 3_257;

#[test]
fn the_liquidations_a_congested_block_holds_follow_from_the_weights_in_use() {
	use crate::capacity::capacity;
	use pallet_liquidation::WeightInfo;
	type Weights = <Runtime as pallet_liquidation::Config>::WeightInfo;

	let c = capacity();
	assert_eq!(c.batch, 64);
	assert_eq!(c.reserved.ref_time(), MAXIMUM_BLOCK_REF_TIME / 4);
	assert!(
		c.per_block >= PINNED_LIQUIDATIONS_PER_BLOCK,
		"{} liquidations a block, fewer than the {PINNED_LIQUIDATIONS_PER_BLOCK} pinned",
		c.per_block
	);
	// Recomputed by hand: the feeds, the full batches and the last partial one fit in the
	// reserved share, and one account more does not.
	let base = RuntimeBlockWeights::get().get(DispatchClass::Operational).base_extrinsic;
	let weigh = |accounts: u32| {
		let full = Weights::liquidate(c.batch)
			.saturating_add(base)
			.saturating_mul((accounts / c.batch).into());
		let rest = accounts % c.batch;
		let partial =
			if rest == 0 { Weight::zero() } else { Weights::liquidate(rest).saturating_add(base) };
		c.feed
			.saturating_mul(c.feeds_per_block.into())
			.saturating_add(full)
			.saturating_add(partial)
	};
	assert!(weigh(c.per_block).all_lte(c.reserved));
	assert!(!weigh(c.per_block + 1).all_lte(c.reserved));

	// Accounts with fewer positions are charged less, and the refunds make room for more
	// batches; with the most positions an account may hold, nothing changes.
	let rows = crate::capacity::by_positions();
	assert_eq!(rows.last().map(|(_, _, per_block)| *per_block), Some(c.per_block));
	assert!(rows.windows(2).all(|w| w[0].2 >= w[1].2 && w[0].1.all_lte(w[1].1)));
	assert!(rows[0].2 > c.per_block);
	assert!(
		rows[0].2 >= PINNED_ONE_POSITION_LIQUIDATIONS_PER_BLOCK,
		"{} one-position liquidations a block, fewer than the pinned",
		rows[0].2
	);
}

#[test]
#[ignore = "prints the capacity table; run by benchmarks/capacity.sh"]
fn capacity_report() {
	use crate::capacity::{by_positions, capacity};
	let ms = |w: Weight| w.ref_time() as f64 / 1e9;
	let c = capacity();
	// (The test harness prints the test's name on the line the output starts on.)
	println!();
	println!("| quantity | value |");
	println!("| --- | --- |");
	println!("| block ref time | {:.0} ms |", ms(c.block));
	println!("| normal class (full under congestion) | {:.0} ms |", ms(c.normal));
	println!("| reserved operational share | {:.0} ms |", ms(c.reserved));
	let values: u32 =
		<<Runtime as pallet_perp_oracle::Config>::MaxValuesPerFeed as frame_support::traits::Get<
			u32,
		>>::get();
	println!(
		"| one oracle feed at its bounds ({values} values, {} feeders) | {:.3} ms |",
		c.feeds_per_block,
		ms(c.feed)
	);
	println!(
		"| feeds a block at the bounds ({} feeders) | {:.3} ms |",
		c.feeds_per_block,
		ms(c.feed) * f64::from(c.feeds_per_block)
	);
	println!("| largest liquidation batch per extrinsic | {} accounts |", c.batch);
	println!("| declared weight of a full batch | {:.3} ms |", ms(c.batch_weight));
	println!(
		"| declared weight per account in a full batch | {:.3} ms |",
		ms(c.batch_weight) / f64::from(c.batch)
	);
	println!("| **liquidations per block, L** | **{}** |", c.per_block);
	println!();
	println!(
		"| positions per account | weight charged per account | L when every account holds that many |"
	);
	println!("| --- | --- | --- |");
	for (positions, per_account, per_block) in by_positions() {
		println!("| {positions} | {:.3} ms | {per_block} |", ms(per_account));
	}
}

#[test]
// Liquidations are `ValidateUnsigned` transactions (see ARCHITECTURE §6).
#[allow(deprecated)]
fn what_the_liquidation_calls_report_stays_within_their_declared_weight_at_their_bounds() {
	use crate::{
		configs::liquidation::LiquidationBenchmarkHelper, AccountId, Liquidation, RuntimeCall,
		RuntimeOrigin,
	};
	use frame_support::{
		dispatch::GetDispatchInfo, pallet_prelude::Weight, traits::UnfilteredDispatchable,
	};
	use pallet_liquidation::{BenchmarkHelper, WeightInfo};
	type Weights = <Runtime as pallet_liquidation::Config>::WeightInfo;

	/// Dispatches `call` as `origin`; returns its declared and reported weights.
	fn run(call: RuntimeCall, origin: RuntimeOrigin) -> (Weight, Weight) {
		let declared = call.get_dispatch_info().call_weight;
		let post = call.dispatch_bypass_filter(origin).expect("the call succeeds");
		(declared, post.actual_weight.unwrap_or(declared))
	}

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		// A full batch of the worst case: 8 positions each, every debt to auction, every
		// collateral asset of each in an auction of its own.
		let max_positions = LiquidationBenchmarkHelper::max_positions();
		let accounts = LiquidationBenchmarkHelper::liquidatable_accounts(16, max_positions);
		let max_collateral: u32 = <<Runtime as pallet_margin::Config>::MaxCollateralAssets as
			frame_support::traits::Get<u32>>::get();
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
			accounts: accounts.clone().try_into().unwrap(),
		});
		let (declared, actual) = run(call, RuntimeOrigin::none());
		assert!(actual.all_lte(declared));
		assert_eq!(actual, Weights::liquidate(16), "every account liquidated: no refund");
		let per_account = crate::configs::liquidation::MAX_AUCTIONS_PER_LIQUIDATION;
		assert!(per_account < max_collateral);
		assert_eq!(Liquidation::auction_views().len() as u32, 16 * per_account);

		// A take that ends its auction with debt left: the declared debt stage is kept.
		let auction = Liquidation::auction_views().remove(0);
		let taker: AccountId = Sr25519Keyring::Ferdie.to_account_id();
		LiquidationBenchmarkHelper::fund_cash(&taker, auction.auction.tab * 2);
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::take {
			id: auction.id,
			max_amount: auction.auction.lot,
			max_price: auction.price,
		});
		let (declared, actual) = run(call, RuntimeOrigin::signed(taker));
		assert!(actual.all_lte(declared));
		assert_eq!(actual, Liquidation::take_weight(true));
	});

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		// A full batch of accounts with one position each returns what the other seven
		// positions would have cost.
		let accounts = LiquidationBenchmarkHelper::liquidatable_accounts(16, 1);
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
			accounts: accounts.clone().try_into().unwrap(),
		});
		let (declared, actual) = run(call, RuntimeOrigin::none());
		let unused = Liquidation::lighter_by(1).saturating_mul(16);
		assert_eq!(actual, declared.saturating_sub(unused));
		assert!(actual.ref_time() < declared.ref_time());
		assert!(accounts.iter().all(|who| !Liquidation::may_liquidate(who)));
	});

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		// Deleveraging a full batch of positions in profit, every one closed.
		LiquidationBenchmarkHelper::profitable_positions(16);
		pallet_liquidation::SocializedLoss::<Runtime>::put(u128::from(u64::MAX));
		let call = RuntimeCall::Liquidation(pallet_liquidation::Call::deleverage { max: 16 });
		let (declared, actual) = run(call, RuntimeOrigin::none());
		assert!(actual.all_lte(declared));
		assert_eq!(actual, Weights::deleverage(16));
	});
}

#[test]
fn a_workers_run_submits_as_many_batches_as_the_reserved_share_holds_beside_the_feeds() {
	use crate::capacity::capacity;
	let c = capacity();
	let batches = crate::Liquidation::batches_per_run(c.batch);
	// The full batches of a congested block; a partial one holds the rest.
	assert!(batches * c.batch <= c.per_block, "{batches} batches of {}", c.batch);
	assert!(c.per_block < (batches + 1) * c.batch, "{batches} batches of {}", c.batch);
	// What the reserved share holds once the feeds have their room.
	let share = c.reserved.saturating_sub(c.feed.saturating_mul(c.feeds_per_block.into()));
	assert_eq!(crate::Liquidation::reserved_share(), share);
	assert!(c.batch_weight.saturating_mul(batches.into()).all_lte(share));
	assert!(!c.batch_weight.saturating_mul((batches + 1).into()).all_lte(share));
}

#[test]
fn a_batch_of_ordinary_calls_stays_in_the_normal_class_whatever_it_wraps() {
	use crate::RuntimeCall;
	use frame_support::dispatch::GetDispatchInfo;
	use perp_primitives::Price;

	let transfer = || {
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: 1,
		})
	};
	let feed = || {
		RuntimeCall::Oracle(pallet_perp_oracle::Call::feed {
			values: vec![(asset_ids::BTC, Price::from_u32(60_000))].try_into().unwrap(),
		})
	};
	let batch =
		|calls: Vec<RuntimeCall>| RuntimeCall::Utility(pallet_utility::Call::batch { calls });

	let transfers = batch(vec![transfer(); 100]).get_dispatch_info();
	assert_eq!(transfers.class, DispatchClass::Normal);
	assert!(transfers.call_weight.all_gte(transfer().get_dispatch_info().call_weight * 100));
	// A feed among ordinary calls does not lift the batch into the operational reserve.
	assert_eq!(batch(vec![feed(), transfer()]).get_dispatch_info().class, DispatchClass::Normal);
	// A normal batch is bounded by the normal class like any normal transaction.
	let normal = RuntimeBlockWeights::get().get(DispatchClass::Normal).max_extrinsic.unwrap();
	let too_big = batch(vec![transfer(); 10_000]).get_dispatch_info();
	assert!(!too_big.total_weight().all_lte(normal));
}

/// The validity the runtime's fee-and-priority extension gives `who`'s signed `call` at the
/// pool.
fn pool_validity(
	who: Sr25519Keyring,
	call: &crate::RuntimeCall,
) -> Result<
	sp_runtime::transaction_validity::ValidTransaction,
	sp_runtime::transaction_validity::TransactionValidityError,
> {
	use crate::{priority::ChargeFeeWithPriority, RuntimeOrigin};
	use codec::Encode;
	use frame_support::dispatch::GetDispatchInfo;
	use sp_runtime::{
		traits::{TransactionExtension, TxBaseImplication},
		transaction_validity::TransactionSource,
	};
	ChargeFeeWithPriority::from_tip(0)
		.validate(
			RuntimeOrigin::signed(who.to_account_id()),
			call,
			&call.get_dispatch_info(),
			call.encoded_size(),
			(),
			&TxBaseImplication(call),
			TransactionSource::External,
		)
		.map(|(valid, _, _)| valid)
}

#[test]
fn a_non_feeders_feed_is_refused_at_the_pool_and_a_feeders_outranks_liquidations() {
	use crate::{configs::liquidation::LIQUIDATION_PRIORITY, RuntimeCall};
	use perp_primitives::Price;
	use sp_runtime::transaction_validity::InvalidTransaction;

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		let feed = || {
			RuntimeCall::Oracle(pallet_perp_oracle::Call::feed {
				values: vec![(asset_ids::BTC, Price::from_u32(60_000))].try_into().unwrap(),
			})
		};
		let batch = |calls| RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
		// Eve is no feeder: neither her feed nor a batch of feeds (operational, as every call
		// in it is) reaches the pool, whatever fee she would pay.
		assert_eq!(
			pool_validity(Sr25519Keyring::Eve, &feed()),
			Err(InvalidTransaction::BadSigner.into())
		);
		assert_eq!(
			pool_validity(Sr25519Keyring::Eve, &batch(vec![feed(), feed()])),
			Err(InvalidTransaction::Call.into())
		);
		// Nor does a feeder's batch of feeds (Bob's; Alice holds the sudo key): a feed goes
		// alone.
		assert_eq!(
			pool_validity(Sr25519Keyring::Bob, &batch(vec![feed()])),
			Err(InvalidTransaction::Call.into())
		);
		// Alice's feed goes in ahead of the liquidations...
		let valid = pool_validity(Sr25519Keyring::Alice, &feed()).expect("a feeder's feed");
		assert!(
			valid.priority > LIQUIDATION_PRIORITY,
			"feed {} below liquidations",
			valid.priority
		);
		// ...once a block: a second feed of hers in the same block is refused.
		let values = vec![(asset_ids::BTC, Price::from_u32(60_000))].try_into().unwrap();
		assert!(Oracle::feed(
			crate::RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
			values
		)
		.is_ok());
		assert_eq!(
			pool_validity(Sr25519Keyring::Alice, &feed()),
			Err(InvalidTransaction::Stale.into())
		);
	});
}

#[test]
fn liquidations_leave_the_feeds_their_room_in_a_full_block() {
	use crate::{
		capacity::capacity, configs::liquidation::LiquidationBenchmarkHelper, Executive,
		RuntimeCall, UncheckedExtrinsic,
	};
	use frame_support::dispatch::DispatchInfo;
	use pallet_liquidation::BenchmarkHelper;
	use sp_runtime::{
		traits::Header as _,
		transaction_validity::{InvalidTransaction, TransactionValidityError},
	};

	let limits = RuntimeBlockWeights::get();
	let normal = limits.get(DispatchClass::Normal).max_total.unwrap();
	let reserved = limits.get(DispatchClass::Operational).reserved.unwrap();
	let c = capacity();
	let feeds = c.feed.saturating_mul(c.feeds_per_block.into());
	// A block whose normal class is full and whose operational class has taken `used`, then
	// one full liquidation batch: what applying it gives, and whether every feeder's feed at
	// its bounds still fits after it.
	let attempt = |used: Weight| {
		let mut outcome = None;
		on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
			let header = crate::Header::new(
				1,
				Default::default(),
				Default::default(),
				crate::System::block_hash(0),
				Default::default(),
			);
			Executive::initialize_block(&header);
			// Worst-case accounts: the batch is charged its declared weight.
			let positions = LiquidationBenchmarkHelper::max_positions();
			let accounts = LiquidationBenchmarkHelper::liquidatable_accounts(c.batch, positions);
			let call = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
				accounts: accounts.try_into().unwrap(),
			});
			frame_system::BlockWeight::<Runtime>::mutate(|w| {
				w.set(normal, DispatchClass::Normal);
				w.set(used, DispatchClass::Operational);
			});
			let applied = Executive::apply_extrinsic(UncheckedExtrinsic::new_bare(call));
			let feed = DispatchInfo {
				call_weight: c
					.feed
					.saturating_sub(limits.get(DispatchClass::Operational).base_extrinsic),
				class: DispatchClass::Operational,
				..Default::default()
			};
			// Each feed as the block builder adds it: checked against the block, then noted.
			let feeds_fit = (0..c.feeds_per_block)
				.all(|_| frame_system::CheckWeight::<Runtime>::do_prepare(&feed, 0, 0).is_ok());
			outcome = Some((applied.map(|r| r.is_ok()), feeds_fit));
		});
		outcome.unwrap()
	};
	// Room for the batch and the feeds: the batch runs. (In ref time: the block's proof size
	// is far from its limit.)
	let fits = reserved.saturating_sub(feeds).saturating_sub(c.batch_weight);
	let fits = Weight::from_parts(fits.ref_time(), 0);
	assert_eq!(attempt(fits), (Ok(true), true));
	// A little less: the batch alone would fit the class, but would take the feeds' room.
	let short = fits.saturating_add(Weight::from_parts(1_000_000, 0));
	assert_eq!(
		attempt(short),
		(Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources)), true)
	);
}

#[test]
fn governance_cannot_delist_a_price_in_use_nor_can_anyone_squat_a_reserved_asset_id() {
	use crate::RuntimeOrigin;
	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		// BTC backs a market, DOT is collateral: their prices stay.
		for asset in [asset_ids::BTC, asset_ids::DOT] {
			assert!(Oracle::remove_asset(RuntimeOrigin::root(), asset).is_err());
			assert!(pallet_perp_oracle::Assets::<Runtime>::contains_key(asset));
		}
		// Once nothing uses it, an asset may go.
		let unused = 77;
		assert!(Oracle::add_asset(RuntimeOrigin::root(), unused).is_ok());
		assert!(Oracle::remove_asset(RuntimeOrigin::root(), unused).is_ok());
		// Eve cannot create (and then mint) an asset at an id collateral may one day use.
		let eve = Sr25519Keyring::Eve.to_account_id();
		let create = |id: u32| {
			Assets::create(RuntimeOrigin::signed(eve.clone()), id.into(), eve.clone().into(), 1)
		};
		assert!(create(5).is_err());
		assert!(!pallet_assets::Asset::<Runtime>::contains_key(5));
		// Governance can; and anyone may create outside the reserved range.
		assert!(Assets::force_create(RuntimeOrigin::root(), 5.into(), eve.clone().into(), true, 1)
			.is_ok());
		assert!(create(crate::configs::FIRST_PUBLIC_ASSET_ID).is_ok());
	});
}

#[test]
fn stale_collateral_does_not_shield_a_position_from_liquidation() {
	use crate::{Liquidation, Margin, RuntimeOrigin, USD_UNIT};
	use perp_primitives::Price;

	// Block `block`, `at_ms` into the chain: Alice and Bob feed `values`.
	let feed_at = |block: u32, at_ms: u64, values: Vec<(crate::AssetId, Price)>| {
		crate::System::set_block_number(block);
		pallet_timestamp::Now::<Runtime>::put(1_000_000 + at_ms);
		for feeder in [Sr25519Keyring::Alice, Sr25519Keyring::Bob] {
			let signed = crate::RuntimeOrigin::signed(feeder.to_account_id());
			assert!(Oracle::feed(signed, values.clone().try_into().unwrap()).is_ok());
		}
	};
	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		let (btc, dot) = (asset_ids::BTC, asset_ids::DOT);
		feed_at(1, 0, vec![(btc, Price::from_u32(65_000)), (dot, Price::from_u32(5))]);
		let eve = Sr25519Keyring::Eve.to_account_id();
		let signed = || RuntimeOrigin::signed(eve.clone());
		assert!(Margin::deposit(signed(), asset_ids::USD, 10_000 * USD_UNIT).is_ok());
		// One DOT beside the USD.
		let dot_unit = genesis_config_presets::DOT_UNIT;
		assert!(Margin::deposit(signed(), dot, dot_unit).is_ok());
		assert!(Margin::trade(signed(), 0, 300_000_000).is_ok());

		// 70 s later BTC falls 4.6%; nobody fed DOT since: its price is stale.
		feed_at(2, 70_000, vec![(btc, Price::from_u32(62_000))]);
		assert_eq!(Oracle::price(dot).status, PriceStatus::Stale);
		// The stale DOT counts for less, not for a veto: Eve is liquidated on BTC.
		assert!(Liquidation::may_liquidate(&eve));
		assert!(Liquidation::candidates(10).contains(&eve));
		assert!(Liquidation::liquidate_account(signed(), eve.clone()).is_ok());
		assert_eq!(Margin::position(&eve, 0), None);
		// Her debt waits for a fresh DOT price: the DOT is hers until it can be valued.
		assert!(<Margin as perp_primitives::MarginReader<_>>::cash(&eve) < 0);
		assert_eq!(
			<crate::Margin as perp_primitives::MarginReader<_>>::collateral(&eve, dot),
			dot_unit
		);
		assert_eq!(pallet_liquidation::SocializedLoss::<Runtime>::get(), 0);

		// DOT is priced again: discovery finds Eve's debt, her one DOT (under the minimum lot)
		// goes to the fund and the rest is a shortfall.
		feed_at(3, 76_000, vec![(btc, Price::from_u32(62_000)), (dot, Price::from_u32(5))]);
		assert!(Liquidation::candidates(10).contains(&eve));
		assert!(Liquidation::liquidate_account(signed(), eve.clone()).is_ok());
		assert_eq!(<Margin as perp_primitives::MarginReader<_>>::cash(&eve), 0);
		assert_eq!(<crate::Margin as perp_primitives::MarginReader<_>>::collateral(&eve, dot), 0);
		let fund = Liquidation::insurance_fund();
		assert_eq!(
			<crate::Margin as perp_primitives::MarginReader<_>>::collateral(&fund, dot),
			dot_unit
		);
	});
}

#[test]
fn the_liquidation_benchmarks_worst_case_holds_every_collateral_asset_and_auctions_them_in_turn() {
	use crate::{
		configs::liquidation::{LiquidationBenchmarkHelper, MAX_AUCTIONS_PER_LIQUIDATION},
		Liquidation, RuntimeCall, RuntimeOrigin,
	};
	use frame_support::{
		dispatch::GetDispatchInfo,
		traits::{Get, UnfilteredDispatchable},
	};
	use pallet_liquidation::BenchmarkHelper;

	let max_collateral: u32 = <Runtime as pallet_margin::Config>::MaxCollateralAssets::get();
	let open = |who: &crate::AccountId| {
		Liquidation::auction_views()
			.into_iter()
			.filter(|v| v.auction.owner == *who)
			.count() as u32
	};
	for positions in [1, LiquidationBenchmarkHelper::max_positions()] {
		on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
			crate::System::set_block_number(1);
			let accounts = LiquidationBenchmarkHelper::liquidatable_accounts(2, positions);
			for who in &accounts {
				let held = pallet_margin::Accounts::<Runtime>::get(who)
					.map_or(0, |account| account.collateral.len() as u32);
				assert_eq!(held, max_collateral, "every collateral asset is held");
			}
			let call = pallet_liquidation::Call::<Runtime>::liquidate {
				accounts: accounts.clone().try_into().unwrap(),
			};
			let declared = RuntimeCall::Liquidation(call.clone()).get_dispatch_info().call_weight;
			let post = call.dispatch_bypass_filter(RuntimeOrigin::none()).expect("liquidates");
			assert!(post.actual_weight.unwrap_or(declared).all_lte(declared));
			// Each debt exceeds all the collateral: the most auctions a liquidation starts.
			for who in &accounts {
				assert_eq!(open(who), MAX_AUCTIONS_PER_LIQUIDATION, "{positions} positions");
			}
			// Once a taker buys out the first account's auctions, its next holdings follow.
			let who = &accounts[0];
			crate::System::reset_events();
			let taker: crate::AccountId = Sr25519Keyring::Ferdie.to_account_id();
			LiquidationBenchmarkHelper::fund_cash(&taker, 100_000 * crate::USD_UNIT);
			for view in Liquidation::auction_views().into_iter().filter(|v| v.auction.owner == *who)
			{
				let take = pallet_liquidation::Call::<Runtime>::take {
					id: view.id,
					max_amount: view.auction.lot,
					max_price: view.price,
				};
				assert!(take.dispatch_bypass_filter(RuntimeOrigin::signed(taker.clone())).is_ok());
			}
			// The debt stage goes on with as many steps: the lots' remainders the tabs did not
			// need went back to the owner, and as dust they are folded into the fund first.
			let steps = crate::System::events()
				.iter()
				.filter(|r| {
					matches!(&r.event, crate::RuntimeEvent::Liquidation(
						pallet_liquidation::Event::AuctionStarted { who: owner, .. }
							| pallet_liquidation::Event::CollateralFolded { who: owner, .. },
					) if owner == who)
				})
				.count() as u32;
			assert_eq!(steps, MAX_AUCTIONS_PER_LIQUIDATION);
			assert!(<crate::Margin as perp_primitives::MarginReader<_>>::cash(who) < 0);
		});
	}
}

/// The oracle's migration, through the executive as a runtime upgrade runs it, with
/// try-runtime's checks: its pre/post checks and every pallet's `try_state`.
#[cfg(feature = "try-runtime")]
#[test]
fn the_runtime_upgrade_migrates_the_oracle_to_version_1_and_keeps_every_value() {
	use crate::Executive;
	use frame_support::traits::{GetStorageVersion, StorageVersion};
	use frame_try_runtime::UpgradeCheckSelect;
	use pallet_perp_oracle::migrations::v1;

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		feed_btc_at(1, 60_000);
		feed_btc_at(2, 61_000);
		assert_eq!(crate::Oracle::on_chain_storage_version(), StorageVersion::new(1));
		let values = v1::entries::<Runtime>();
		assert!(values.len() >= 4, "two feeders' BTC and DOT values");
		let price = crate::Oracle::price(asset_ids::BTC);
		v1::downgrade::<Runtime>();
		assert_eq!(v1::old_entries::<Runtime>(), values);

		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("migrations and checks");

		assert_eq!(crate::Oracle::on_chain_storage_version(), StorageVersion::new(1));
		assert!(v1::old_entries::<Runtime>().is_empty());
		assert_eq!(v1::entries::<Runtime>(), values, "every value as it was");
		assert_eq!(crate::Oracle::price(asset_ids::BTC), price);
	});
}

/// The runtime's migrations, through the executive as a runtime upgrade runs them, with
/// try-runtime's checks: each migration's pre/post checks and every pallet's `try_state`.
#[cfg(feature = "try-runtime")]
#[test]
fn the_runtime_upgrade_migrates_margin_to_version_2_and_keeps_every_balance() {
	use crate::{configs::liquidation::LiquidationBenchmarkHelper, Executive};
	use frame_support::traits::{GetStorageVersion, StorageVersion};
	use frame_try_runtime::UpgradeCheckSelect;
	use pallet_liquidation::BenchmarkHelper;

	on_preset(sp_genesis_builder::DEV_RUNTIME_PRESET, || {
		crate::System::set_block_number(1);
		assert_eq!(crate::Margin::on_chain_storage_version(), StorageVersion::new(2));
		// Accounts with positions, cash and every collateral asset; one liquidated into
		// auctions.
		let accounts = LiquidationBenchmarkHelper::liquidatable_accounts(3, 2);
		let debtor = accounts[0].clone();
		let batch = frame_support::BoundedVec::truncate_from(vec![debtor.clone()]);
		crate::Liquidation::liquidate(crate::RuntimeOrigin::none(), batch).expect("liquidated");
		let open = pallet_margin::Accounts::<Runtime>::get(&debtor).map_or(0, |a| a.auctions);
		assert!(open > 0, "an auction is open");
		let records: Vec<_> = pallet_margin::Accounts::<Runtime>::iter().collect();
		assert!(records.iter().any(|(_, account)| !account.collateral.is_empty()));
		use pallet_margin::migrations::{v1, v2};
		v2::downgrade::<Runtime, crate::Liquidation>();
		assert_eq!(v2::old_count::<Runtime, crate::Liquidation>(&debtor), open);
		v1::downgrade::<Runtime>();
		assert!(accounts.iter().all(v1::has_old_record::<Runtime>));

		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("migrations and checks");

		assert_eq!(crate::Margin::on_chain_storage_version(), StorageVersion::new(2));
		assert_eq!(v2::old_count::<Runtime, crate::Liquidation>(&debtor), 0);
		let mut after: Vec<_> = pallet_margin::Accounts::<Runtime>::iter().collect();
		let mut before = records;
		after.sort_by(|a, b| a.0.cmp(&b.0));
		before.sort_by(|a, b| a.0.cmp(&b.0));
		// An account marked crossed is still found at any price, its mark kept in its index
		// entry instead of its record until its next re-index.
		let crossed: Vec<_> = before.iter().filter(|(_, a)| a.crossed).map(|(w, _)| w).collect();
		assert!(crossed.contains(&&debtor));
		assert!(crossed.iter().all(|who| pallet_margin::Pallet::<Runtime>::is_crossed(who)));
		for (_, account) in before.iter_mut() {
			account.crossed = false;
		}
		assert_eq!(after, before, "every record as it was");
	});
}
