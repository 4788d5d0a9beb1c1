//! The risk index: safe bands, discovery of crossed accounts, refresh, governance changes.

use super::*;
use crate::{pallet::*, Error, Event};
use frame_support::assert_noop;
use perp_primitives::{HealthState, PriceStatus};

const ONE_BTC: i128 = BTC_UNIT as i128;

fn crossed() -> Vec<u64> {
	let mut found = Margin::crossed_accounts(100);
	found.sort();
	found
}

#[test]
fn an_account_at_risk_is_indexed_and_found_only_once_its_band_is_left() {
	run_test(|| {
		// 1 BTC long on 10,000 USD: liquidatable below 40,000 / 0.95 = 42,105.
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		let triggers = Triggers::<Test>::get(ALICE).expect("indexed").triggers;
		assert_eq!(triggers.len(), 1);
		assert_eq!(triggers[0].asset, BTC);
		assert!(crossed().is_empty());

		// Inside the band: nothing to find, nothing to refresh.
		set_price(BTC, p(49_000));
		assert!(crossed().is_empty());
		assert_noop!(Margin::refresh(RuntimeOrigin::signed(BOB), ALICE), Error::<Test>::NotCrossed);

		// Liquidatable: the band is left and discovery finds it.
		set_price(BTC, p(42_000));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_eq!(crossed(), vec![ALICE]);
		// Refreshing a liquidatable account indexes it as crossed at any price.
		assert_ok!(Margin::refresh(RuntimeOrigin::signed(BOB), ALICE));
		System::assert_last_event(Event::Refreshed { who: ALICE }.into());
		assert_eq!(crossed(), vec![ALICE]);
		set_price(BTC, p(43_000));
		assert_eq!(crossed(), vec![ALICE]);
	});
}

#[test]
fn a_healthy_account_that_left_its_band_is_refreshed_around_the_new_price() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		// Equity 10,000, maintenance 2,500, exposure 50,000 × 1.1: bands of ±13.6%.
		set_price(BTC, p(43_000));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Restricted));
		assert_eq!(crossed(), vec![ALICE]);
		assert_ok!(Margin::refresh(RuntimeOrigin::signed(BOB), ALICE));
		assert!(crossed().is_empty());
		// Long only: a rise cannot hurt it, so it has no upper end to leave.
		set_price(BTC, p(60_000));
		assert!(crossed().is_empty());
		let triggers = Triggers::<Test>::get(ALICE).expect("indexed").triggers;
		assert!(triggers.iter().all(|t| t.lower.is_some() && t.upper.is_none()));
		// A fall below its new lower end finds it again.
		set_price(BTC, p(42_000));
		assert_eq!(crossed(), vec![ALICE]);
	});
}

#[test]
fn a_short_is_found_when_its_price_rises_past_its_band_and_not_when_it_falls() {
	run_test(|| {
		// 1 BTC short on 10,000 USD at 50,000: liquidatable above 60,000 / 1.05 = 57,142.
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, -ONE_BTC));
		let triggers = Triggers::<Test>::get(ALICE).expect("indexed").triggers;
		assert!(triggers.iter().all(|t| t.lower.is_none() && t.upper.is_some()));
		set_price(BTC, p(20_000));
		assert!(crossed().is_empty());
		set_price(BTC, p(58_000));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_eq!(crossed(), vec![ALICE]);
	});
}

#[test]
fn discovery_visits_the_accounts_at_risk_not_all_accounts() {
	run_test(|| {
		// Forty careful traders at 1x and five at 10x.
		for who in 1_000..1_040u64 {
			mint(USD, who, usd(60_000));
			deposit(who, USD, usd(60_000));
			assert_ok!(trade(who, ONE_BTC));
		}
		for who in 2_000..2_005u64 {
			mint(USD, who, usd(5_100));
			deposit(who, USD, usd(5_100));
			assert_ok!(trade(who, ONE_BTC));
		}
		assert_eq!(Triggers::<Test>::count(), 45);

		// A 7% fall makes only the 10x traders liquidatable, and only they are found.
		set_price(BTC, p(46_500));
		assert_eq!(Margin::health(&2_000), Some(HealthState::Liquidatable));
		assert_eq!(crossed(), (2_000..2_005).collect::<Vec<_>>());
		// A limit caps the work.
		assert_eq!(Margin::crossed_accounts(3).len(), 3);
	});
}

#[test]
fn discovery_returns_the_accounts_furthest_past_their_bands_first() {
	run_test(|| {
		// 1 BTC long at 50,000 each: on 10,050 USD (liquidatable below ≈ 42,100), on 8,050
		// (≈ 44,200) and on 6,050 (≈ 46,300); and a short, liquidatable above ≈ 57,100.
		for (who, usd_) in [(1u64, 10_050), (2, 8_050), (3, 6_050)] {
			mint(USD, who, usd(usd_));
			deposit(who, USD, usd(usd_));
			assert_ok!(trade(who, ONE_BTC));
		}
		// Crossed when it had nothing to value: found whatever the price.
		mint(USD, 4, usd(10_050));
		deposit(4, USD, usd(10_050));
		assert_ok!(trade(4, -ONE_BTC));
		let mut account = crate::Accounts::<Test>::get(4).expect("an account");
		assert!(Margin::cross(&4, &mut account));
		Margin::store_account(&4, &account);
		// At 40,000 every long is past its lower end, the thinnest one furthest.
		set_price(BTC, p(40_000));
		assert_eq!(Margin::crossed_accounts(100), vec![4, 3, 2, 1]);
		assert_eq!(Margin::crossed_accounts(2), vec![4, 3]);
	});
}

#[test]
fn stale_prices_find_nothing_and_refresh_nothing() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		set_price_status(BTC, p(30_000), PriceStatus::Stale);
		assert!(crossed().is_empty());
		assert_noop!(Margin::refresh(RuntimeOrigin::signed(BOB), ALICE), Error::<Test>::NotCrossed);
	});
}

#[test]
fn an_account_reindexed_while_a_price_is_missing_is_found_once_it_returns() {
	run_test(|| {
		// 1 BTC short on 10,050 USD at 50,000 (liquidatable above about 57,200).
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, -ONE_BTC));
		// BTC is delisted and listed again: no price at all. Alice deposits, and is
		// re-indexed with nothing to measure a band from.
		set_price_status(BTC, Price::from_inner(0), PriceStatus::Missing);
		deposit(ALICE, USD, usd(1));
		// BTC returns at 60,000: Alice is liquidatable, and discovery must find her.
		set_price(BTC, p(60_000));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_eq!(crossed(), vec![ALICE]);
	});
}

#[test]
fn a_governance_change_voids_every_band_until_refreshed() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		deposit(BOB, USD, usd(20_000));
		assert_ok!(trade(BOB, -ONE_BTC));
		assert_eq!(Outdated::<Test>::get(), 0);
		assert!(Margin::outdated_accounts(None, 10).is_empty());

		let mut stricter = btc_market();
		stricter.tiers[0].maintenance = sp_runtime::Perbill::from_percent(9);
		assert_ok!(Margin::update_market(RuntimeOrigin::root(), BTC_PERP, stricter));
		assert_eq!(Outdated::<Test>::get(), 2);
		let mut outdated = Margin::outdated_accounts(None, 10);
		outdated.sort();
		assert_eq!(outdated, vec![ALICE, BOB]);
		assert!(Margin::is_crossed(&ALICE));
		// Paging: one at a time, after a cursor.
		let first = Margin::outdated_accounts(None, 1);
		let second = Margin::outdated_accounts(first.first().copied(), 1);
		assert_eq!(first.len() + second.len(), 2);
		assert_ne!(first, second);

		assert_ok!(Margin::refresh(RuntimeOrigin::signed(CHARLIE), ALICE));
		assert_eq!(Outdated::<Test>::get(), 1);
		assert_eq!(Margin::outdated_accounts(None, 10), vec![BOB]);
		assert_ok!(Margin::refresh(RuntimeOrigin::signed(CHARLIE), BOB));
		assert_eq!(Outdated::<Test>::get(), 0);
	});
}

#[test]
fn an_account_a_governance_change_made_liquidatable_is_found_before_any_price_moves() {
	run_test(|| {
		// 1 BTC long on 10,050 USD at 50,000: healthy, its band far below the price. Bob holds
		// only cash: not at risk, not indexed.
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		deposit(BOB, USD, usd(1_000));
		assert!(crossed().is_empty());

		// Maintenance raised to 25% of the notional (12,500 USD): Alice is liquidatable at the
		// same price, and discovery must find her although no price has left her band.
		let mut stricter = btc_market();
		stricter.tiers[0].initial = sp_runtime::Perbill::from_percent(30);
		stricter.tiers[0].maintenance = sp_runtime::Perbill::from_percent(25);
		stricter.tiers[1].initial = sp_runtime::Perbill::from_percent(40);
		stricter.tiers[1].maintenance = sp_runtime::Perbill::from_percent(30);
		assert_ok!(Margin::update_market(RuntimeOrigin::root(), BTC_PERP, stricter));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_eq!(crossed(), vec![ALICE]);
		assert_eq!(<Margin as perp_primitives::MarginReader<u64>>::candidates(10), vec![ALICE]);
	});
}

#[test]
fn debt_without_anything_to_value_is_found_under_the_settlement_asset() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(5_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		// Closed at a loss beyond its cash: debt, no positions, no collateral.
		set_price(BTC, p(40_000));
		assert_ok!(Margin::close(RuntimeOrigin::signed(ALICE), BTC_PERP));
		assert!(cash(ALICE) < 0);
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Bankrupt));
		assert_eq!(crossed(), vec![ALICE]);
	});
}
