//! The `MarginReader` and `MarginLiquidator` primitives liquidation builds on.

use super::*;
use crate::{pallet::*, Error, Event, Interest};
use frame_support::assert_noop;
use perp_primitives::{
	Close, HealthState, MarginLiquidator, MarginReader, MarketId, Price, Reduction,
};
use sp_runtime::{DispatchError, Perbill};

const ONE_BTC: i128 = BTC_UNIT as i128;
/// The insurance fund's margin account in these tests.
const FUND: u64 = 77;

/// Quotes of their own for one valuation.
fn quotes() -> crate::valuation::Quotes<Test> {
	Default::default()
}

/// `reduce_positions` of one position: its reduction.
fn reduce(
	who: u64,
	market: MarketId,
	amount: Balance,
	price: Price,
	penalty: Perbill,
	beneficiary: u64,
) -> Result<Reduction, DispatchError> {
	let close = Close { market, amount, price };
	let reduced = Margin::reduce_positions(&who, &[close], penalty, &beneficiary, &mut quotes())?;
	assert_eq!(reduced.reductions.len(), 1);
	// What the closes leave is what a fresh read of the account gives.
	assert_eq!(reduced.after, Margin::risk(&who, &mut quotes()));
	Ok(reduced.reductions[0])
}

#[test]
fn a_position_is_reduced_at_the_given_price_and_the_penalty_paid_to_the_beneficiary() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(10_150));
		assert_ok!(trade(ALICE, 2 * ONE_BTC));
		set_price(BTC, p(46_000));
		assert_eq!(Margin::health(&ALICE), Some(HealthState::Liquidatable));
		assert_eq!(Margin::candidates(10), vec![ALICE]);

		// Half the position, at 45,540 (1% under the price), 2% penalty on the notional.
		let price = sp_runtime::FixedU128::from_rational(4_554_000, 100);
		let events_before = System::events().len();
		let reduction =
			reduce(ALICE, BTC_PERP, BTC_UNIT, price, Perbill::from_percent(2), FUND).unwrap();
		assert_eq!(
			reduction,
			Reduction {
				closed: BTC_UNIT,
				remaining: ONE_BTC,
				realized: -(usd(4_460) as i128),
				penalty: usd(911) - 200_000, // 2% of 45,540 = 910.80
			}
		);
		// The caller reports the close (liquidation, in one event per account).
		assert_eq!(System::events().len(), events_before);
		assert_eq!(cash(FUND), reduction.penalty as i128);
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: BTC_UNIT, short: 0 });
		// Still below maintenance after half: still found.
		assert_eq!(Margin::candidates(10), vec![ALICE]);
		// Asking for more than the position closes what there is.
		let rest = reduce(ALICE, BTC_PERP, u128::MAX, price, Perbill::zero(), FUND).unwrap();
		assert_eq!((rest.closed, rest.remaining), (BTC_UNIT, 0));
		assert_eq!(Margin::position(&ALICE, BTC_PERP), None);
		// The close re-indexed the account from its valuation after it: no risk, not found.
		assert!(Margin::candidates(10).is_empty());
		assert!(crate::Triggers::<Test>::get(ALICE).is_none());
	});
}

#[test]
fn collateral_is_seized_and_a_shortfall_covered_as_far_as_the_payer_can() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(5_050));
		deposit(ALICE, DOT, 100 * DOT_UNIT);
		assert_ok!(trade(ALICE, ONE_BTC));
		set_price(BTC, p(40_000));
		assert_ok!(reduce(ALICE, BTC_PERP, BTC_UNIT, p(40_000), Perbill::zero(), FUND));
		// 5,000 − 10,000: 5,000 of debt, and 100 DOT.
		assert_eq!(cash(ALICE), -(usd(5_000) as i128));
		assert_ok!(Margin::seize_collateral(&ALICE, DOT, 100 * DOT_UNIT, &FUND));
		System::assert_last_event(
			Event::CollateralSeized { who: ALICE, asset: DOT, amount: 100 * DOT_UNIT, to: FUND }
				.into(),
		);
		assert_eq!(held(ALICE, DOT), None);
		assert_eq!(held(FUND, DOT), Some(100 * DOT_UNIT));
		// Marked crossed in its record instead of re-indexed: found whatever the prices, its
		// earlier entries kept until its next re-index.
		assert!(crate::Accounts::<Test>::get(ALICE).is_some_and(|a| a.crossed));
		let crossed = crate::index::lower_key(u32::MAX);
		assert!(crate::LowerTriggers::<Test>::contains_key((USD, crossed, ALICE)));
		let triggers = crate::Triggers::<Test>::get(ALICE).expect("indexed").triggers;
		assert!(triggers.iter().any(|t| t.asset == DOT));
		set_price(BTC, p(90_000));
		assert!(Margin::crossed_accounts(10).contains(&ALICE));
		assert_noop!(
			Margin::seize_collateral(&ALICE, DOT, 1, &FUND),
			Error::<Test>::InsufficientCollateral
		);

		// The fund holds 3,000 USD: it covers that much of the 5,000.
		mint(USD, FUND, usd(3_000));
		deposit(FUND, USD, usd(3_000));
		// At most 1,000 first, as a per-block cap would allow, then the rest of what it has.
		assert_eq!(Margin::cover_shortfall(&ALICE, &FUND, usd(1_000)), Ok(usd(4_000)));
		assert_eq!(Margin::cover_shortfall(&ALICE, &FUND, u128::MAX), Ok(usd(2_000)));
		assert_eq!(cash(ALICE), -(usd(2_000) as i128));
		assert_eq!(cash(FUND), 0);
		System::assert_last_event(
			Event::ShortfallCovered {
				who: ALICE,
				from: FUND,
				covered: usd(2_000),
				uncovered: usd(2_000),
			}
			.into(),
		);
		// Nothing left to pay with; a healthy account has no shortfall.
		assert_eq!(Margin::cover_shortfall(&ALICE, &FUND, u128::MAX), Ok(usd(2_000)));
		assert_eq!(Margin::cover_shortfall(&BOB, &FUND, u128::MAX), Ok(0));

		// The vault takes over the rest: the account is square and no other account pays.
		let vault = Vault::<Test>::get();
		assert_eq!(Margin::absorb_shortfall(&ALICE), Ok(usd(2_000)));
		System::assert_last_event(
			Event::ShortfallAbsorbed { who: ALICE, amount: usd(2_000) }.into(),
		);
		assert_eq!(Vault::<Test>::get(), vault - usd(2_000) as i128);
		assert_eq!(Margin::cash(&ALICE), 0);
		assert_eq!(Margin::absorb_shortfall(&ALICE), Ok(0));
	});
}

#[test]
fn cash_moves_between_accounts_only_from_what_the_payer_holds_and_can_spare() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(20_000));
		deposit(ALICE, DOT, 10 * DOT_UNIT);
		assert_eq!(Margin::settlement_unit(), usd(1));
		assert_eq!(Margin::collateral(&ALICE, DOT), 10 * DOT_UNIT);
		let held = Margin::risk(&ALICE, &mut quotes()).expect("an account").collateral;
		assert_eq!(held.len(), 1);
		assert_eq!((held[0].asset, held[0].amount, held[0].unit), (DOT, 10 * DOT_UNIT, DOT_UNIT));

		assert_ok!(Margin::transfer_cash(&ALICE, &BOB, usd(5_000)));
		System::assert_last_event(
			Event::CashTransferred { from: ALICE, to: BOB, amount: usd(5_000) }.into(),
		);
		assert_eq!(
			(Margin::cash(&ALICE), Margin::cash(&BOB)),
			(usd(15_000) as i128, usd(5_000) as i128)
		);
		assert_noop!(
			Margin::transfer_cash(&BOB, &ALICE, usd(5_001)),
			Error::<Test>::InsufficientCollateral
		);
		// With a position, the payer keeps its initial margin.
		assert_ok!(trade(ALICE, 2 * ONE_BTC));
		assert_noop!(
			Margin::transfer_cash(&ALICE, &BOB, usd(14_000)),
			Error::<Test>::InsufficientMargin
		);
		let risk = Margin::risk(&ALICE, &mut quotes()).expect("fresh prices");
		let margins = risk.margins;
		assert!(margins.maintenance > 0);
		assert_eq!(risk.cash, Margin::cash(&ALICE));
		assert_eq!(risk.positions.len(), 1);
		assert!(!risk.unpriced_collateral);
		assert_noop!(Margin::transfer_cash(&ALICE, &BOB, 0), Error::<Test>::ZeroAmount);
		assert_noop!(Margin::transfer_cash(&ALICE, &ALICE, 1), Error::<Test>::InvalidBeneficiary);
		// A holding without a fresh price is left out of what liquidation may seize, and
		// counts at its last price for half its weight: the account still gets a verdict.
		set_price_status(DOT, p(5), perp_primitives::PriceStatus::Stale);
		let stale = Margin::risk(&ALICE, &mut quotes()).expect("the market's price is fresh");
		assert!(stale.collateral.is_empty());
		assert!(stale.unpriced_collateral && stale.holds_collateral());
		// 10 DOT at 5 USD: half of their weighted 50 USD is lost.
		let weight = crate::CollateralAssets::<Test>::get(DOT).unwrap().weight;
		let halved = crate::STALE_COLLATERAL_SHARE * weight;
		let lost = weight.mul_floor(usd(50)) - halved.mul_floor(usd(50));
		assert_eq!(margins.equity - stale.margins.equity, lost as i128);
		assert_eq!(Margin::risk(&FUND, &mut quotes()), None, "no account");
	});
}

#[test]
fn valuations_on_one_quotes_read_each_price_once_and_agree_with_lone_ones() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		for who in [ALICE, BOB] {
			deposit(who, USD, usd(20_000));
			deposit(who, DOT, 10 * DOT_UNIT);
			assert_ok!(trade(who, ONE_BTC));
		}
		let lone = [ALICE, BOB].map(|who| Margin::risk(&who, &mut quotes()));
		assert!(lone.iter().all(Option::is_some));

		crate::mock::PriceReads::set(0);
		let mut shared = quotes();
		let batch = [ALICE, BOB].map(|who| Margin::risk(&who, &mut shared));
		assert_eq!(batch, lone);
		// BTC for the market, DOT for the collateral: once each for both accounts.
		assert_eq!(crate::mock::PriceReads::get(), 2);

		// A close on the same quotes reads nothing more, and values the account as a fresh
		// read does.
		let close = Close { market: BTC_PERP, amount: BTC_UNIT / 2, price: p(50_000) };
		let reduced =
			Margin::reduce_positions(&ALICE, &[close], Perbill::zero(), &FUND, &mut shared)
				.expect("a close");
		assert_eq!(crate::mock::PriceReads::get(), 2);
		assert_eq!(reduced.after, Margin::risk(&ALICE, &mut quotes()));
	});
}

#[test]
fn bad_liquidation_requests_change_nothing() {
	run_test(|| {
		deposit(ALICE, USD, usd(10_050));
		assert_ok!(trade(ALICE, ONE_BTC));
		let fee = Perbill::from_percent(1);
		assert_noop!(reduce(ALICE, BTC_PERP, 0, p(50_000), fee, FUND), Error::<Test>::ZeroAmount);
		assert_noop!(reduce(ALICE, 9, 1, p(50_000), fee, FUND), Error::<Test>::UnknownMarket);
		assert_noop!(reduce(BOB, BTC_PERP, 1, p(50_000), fee, FUND), Error::<Test>::NoPosition);
		assert_noop!(
			reduce(ALICE, BTC_PERP, 1, p(50_000), fee, ALICE),
			Error::<Test>::InvalidBeneficiary
		);
		assert_noop!(Margin::seize_collateral(&ALICE, DOT, 0, &FUND), Error::<Test>::ZeroAmount);
		assert_noop!(
			Margin::seize_collateral(&ALICE, DOT, 1, &ALICE),
			Error::<Test>::InvalidBeneficiary
		);
		assert_noop!(
			Margin::cover_shortfall(&ALICE, &ALICE, u128::MAX),
			Error::<Test>::InvalidBeneficiary
		);
		// No auction to close, with an account (Alice) or without (Bob).
		assert_noop!(Margin::auction_closed(&ALICE), Error::<Test>::NoOpenAuction);
		assert_noop!(Margin::auction_closed(&BOB), Error::<Test>::NoOpenAuction);
		assert_noop!(
			Margin::auction_collateral(&ALICE, DOT, 1, &FUND),
			Error::<Test>::InsufficientCollateral
		);
		assert_eq!(Margin::open_auctions(&ALICE), 0);
	});
}

#[test]
fn several_positions_close_in_one_call_all_or_nothing() {
	use perp_primitives::Close;
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		assert_ok!(Margin::create_market(RuntimeOrigin::root(), btc_market()));
		let other = 1;
		deposit(ALICE, USD, usd(20_000));
		assert_ok!(trade(ALICE, ONE_BTC));
		assert_ok!(Margin::trade(RuntimeOrigin::signed(ALICE), other, -ONE_BTC));
		let cash_before = cash(ALICE);
		let vault_before = Vault::<Test>::get();
		let long = Close { market: BTC_PERP, amount: BTC_UNIT, price: p(49_000) };
		let short = Close { market: other, amount: BTC_UNIT / 2, price: p(49_000) };

		// A close of a position Alice does not hold undoes the whole call.
		let missing = Close { market: 3, amount: 1, price: p(49_000) };
		assert_noop!(
			Margin::reduce_positions(
				&ALICE,
				&[long, missing],
				Perbill::zero(),
				&FUND,
				&mut quotes()
			),
			Error::<Test>::UnknownMarket
		);

		let reduced = Margin::reduce_positions(
			&ALICE,
			&[long, short],
			Perbill::from_percent(1),
			&FUND,
			&mut quotes(),
		)
		.unwrap();
		let reductions = &reduced.reductions;
		// Entered at 50,000: the long loses 1,000, the half short gains 500; 1% penalty on
		// 49,000 + 24,500.
		let realized: Vec<_> = reductions.iter().map(|r| r.realized).collect();
		assert_eq!(realized, vec![-(usd(1_000) as i128), usd(500) as i128]);
		let penalty: u128 = reductions.iter().map(|r| r.penalty).sum();
		assert_eq!(penalty, usd(735));
		assert_eq!(cash(ALICE), cash_before - usd(500) as i128 - usd(735) as i128);
		assert_eq!(cash(FUND), usd(735) as i128);
		assert_eq!(Vault::<Test>::get(), vault_before + usd(500) as i128);
		assert_eq!(Margin::position(&ALICE, BTC_PERP), None);
		assert_eq!(Margin::position(&ALICE, other).map(|p| p.size), Some(-ONE_BTC / 2));
		assert_eq!(OpenInterest::<Test>::get(BTC_PERP), Interest { long: 0, short: 0 });
		assert_eq!(OpenInterest::<Test>::get(other), Interest { long: 0, short: BTC_UNIT / 2 });
		// One valuation after both closes: the half short left, and the account's bands.
		let after = reduced.after.expect("fresh prices");
		assert_eq!(Some(after.clone()), Margin::risk(&ALICE, &mut quotes()));
		assert_eq!(after.positions.len(), 1);
		assert_eq!(after.cash, cash(ALICE));
		assert!(crate::Triggers::<Test>::get(ALICE).is_some());
	});
}

/// The profit order of BTC-PERP's longs (`long`) or shorts, whole: entry prices, holders and
/// whether each entry is live.
fn order(long: bool) -> Vec<(Price, u64, bool)> {
	let mut all = Vec::new();
	let mut after = None;
	while let Some(next) = Margin::ranked_after(BTC_PERP, long, after.as_ref()) {
		all.push((next.entry, next.who, next.live));
		after = Some((next.entry, next.who));
	}
	all
}

/// The live entries of [`order`]: the open positions, best first.
fn ranked(long: bool) -> Vec<(Price, u64)> {
	order(long)
		.into_iter()
		.filter(|e| e.2)
		.map(|(entry, who, _)| (entry, who))
		.collect()
}

#[test]
fn the_profit_order_follows_every_trade_and_reduction() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		for who in [ALICE, BOB, CHARLIE] {
			deposit(who, USD, usd(20_000));
		}
		// Alice long from 50,000, Bob long from 40,000, Charlie short from 45,000.
		assert_ok!(trade(ALICE, ONE_BTC / 10));
		set_price(BTC, p(40_000));
		assert_ok!(trade(BOB, ONE_BTC / 10));
		set_price(BTC, p(45_000));
		assert_ok!(trade(CHARLIE, -ONE_BTC / 10));
		// Longs: lowest entry (best PnL at any price) first; the one short alone on its side.
		assert_eq!(ranked(true), vec![(p(40_000), BOB), (p(50_000), ALICE)]);
		assert_eq!(ranked(false), vec![(p(45_000), CHARLIE)]);
		assert_eq!(Margin::market_prices(), vec![(BTC_PERP, Some(p(45_000)))]);

		// Alice doubles at 30,000: her entry averages to 40,000 and ties Bob's (holder order
		// is the key's hash order, deterministic).
		set_price(BTC, p(30_000));
		assert_ok!(trade(ALICE, ONE_BTC / 10));
		let longs = ranked(true);
		assert_eq!(longs.len(), 2);
		assert!(longs.iter().all(|(entry, _)| *entry == p(40_000)));
		// Bob turns short from 30,000: he leaves the longs for the shorts, below Charlie,
		// whose higher entry ranks first.
		assert_ok!(trade(BOB, -ONE_BTC / 5));
		assert_eq!(ranked(true), vec![(p(40_000), ALICE)]);
		assert_eq!(ranked(false), vec![(p(45_000), CHARLIE), (p(30_000), BOB)]);

		// A reduction keeps a position's entry; a full close takes it out.
		assert_ok!(reduce(ALICE, BTC_PERP, BTC_UNIT / 10, p(30_000), Perbill::zero(), FUND));
		assert_eq!(ranked(true), vec![(p(40_000), ALICE)]);
		assert_ok!(reduce(CHARLIE, BTC_PERP, u128::MAX, p(30_000), Perbill::zero(), FUND));
		assert_eq!(ranked(false), vec![(p(30_000), BOB)]);
		// Stale prices are reported as such.
		set_price_status(BTC, p(30_000), perp_primitives::PriceStatus::Stale);
		assert_eq!(Margin::market_prices(), vec![(BTC_PERP, None)]);
	});
}

#[test]
fn a_liquidations_close_leaves_its_entry_stale_until_pruned_or_taken_again() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		for who in [ALICE, BOB] {
			deposit(who, USD, usd(20_000));
		}
		// Alice long from 50,000, Bob long from 40,000.
		assert_ok!(trade(ALICE, ONE_BTC / 10));
		set_price(BTC, p(40_000));
		assert_ok!(trade(BOB, ONE_BTC / 10));

		// Closed by a reduction, Alice's position leaves its entry behind: no write for it.
		assert_ok!(reduce(ALICE, BTC_PERP, u128::MAX, p(40_000), Perbill::zero(), FUND));
		assert_eq!(order(true), vec![(p(40_000), BOB, true), (p(50_000), ALICE, false)]);
		assert_eq!(ProfitOrder::<Test>::iter_keys().count(), 2);
		assert_eq!(StaleRanks::<Test>::get(), 1);
		assert_ok!(Margin::do_try_state());

		// Only a stale entry can be pruned, once.
		assert!(!Margin::prune_ranked(BTC_PERP, true, p(40_000), &BOB));
		assert!(!Margin::prune_ranked(BTC_PERP, false, p(50_000), &ALICE));
		assert!(Margin::prune_ranked(BTC_PERP, true, p(50_000), &ALICE));
		assert!(!Margin::prune_ranked(BTC_PERP, true, p(50_000), &ALICE));
		assert_eq!(order(true), vec![(p(40_000), BOB, true)]);
		assert_eq!(StaleRanks::<Test>::get(), 0);
		assert_ok!(Margin::do_try_state());

		// A new position at the stale entry's key makes it live again; at another key it gets
		// an entry of its own and the stale one stays.
		assert_ok!(reduce(BOB, BTC_PERP, u128::MAX, p(40_000), Perbill::zero(), FUND));
		assert_eq!(StaleRanks::<Test>::get(), 1);
		assert_ok!(trade(BOB, ONE_BTC / 10));
		assert_eq!(order(true), vec![(p(40_000), BOB, true)]);
		assert_eq!(StaleRanks::<Test>::get(), 0);
		assert_ok!(Margin::do_try_state());
		assert_ok!(reduce(BOB, BTC_PERP, u128::MAX, p(40_000), Perbill::zero(), FUND));
		set_price(BTC, p(45_000));
		assert_ok!(trade(BOB, ONE_BTC / 10));
		assert_eq!(order(true), vec![(p(40_000), BOB, false), (p(45_000), BOB, true)]);
		assert_eq!(StaleRanks::<Test>::get(), 1);
		assert_ok!(Margin::do_try_state());

		// A trade that closes a position takes its entry out at once.
		assert_ok!(trade(BOB, -ONE_BTC / 10));
		assert_eq!(order(true), vec![(p(40_000), BOB, false)]);
		assert_eq!(StaleRanks::<Test>::get(), 1);
		assert_ok!(Margin::do_try_state());
	});
}

#[test]
fn blocks_with_spare_weight_sweep_the_stale_entries_away_and_keep_the_live_ones() {
	use crate::WeightInfo;
	use frame_support::{
		traits::{Get, Hooks},
		weights::{RuntimeDbWeight, Weight},
	};
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		for who in [ALICE, BOB, CHARLIE] {
			deposit(who, USD, usd(20_000));
		}
		// Alice opens and is closed by a reduction three times, at three entries; Charlie
		// once; Bob stays open: four stale entries around one live one.
		for (who, price) in [(ALICE, 40_000), (ALICE, 41_000), (ALICE, 42_000), (CHARLIE, 43_000)] {
			set_price(BTC, p(price));
			assert_ok!(trade(who, ONE_BTC / 10));
			assert_ok!(reduce(who, BTC_PERP, u128::MAX, p(price), Perbill::zero(), FUND));
		}
		assert_ok!(trade(BOB, ONE_BTC / 10));
		assert_eq!(StaleRanks::<Test>::get(), 4);
		assert_eq!(order(true).len(), 5);
		let read =
			<<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get().reads(1);
		let sweep = |n: u32| <() as WeightInfo>::prune_stale(n).saturating_add(read);
		// Short of one entry's sweep, nothing is looked at.
		let short = sweep(1).saturating_sub(Weight::from_parts(1, 0));
		assert_eq!(Margin::on_idle(1, short), read);
		assert_eq!(StaleRanks::<Test>::get(), 4);
		// Two entries a block: the sweep goes on where it stopped, and wraps around.
		let mut blocks = 0;
		while StaleRanks::<Test>::get() > 0 {
			assert!(Margin::on_idle(1, sweep(2)).all_lte(sweep(2)));
			assert_ok!(Margin::do_try_state());
			blocks += 1;
			assert!(blocks <= 4, "the sweep does not finish");
		}
		assert_eq!(order(true), vec![(p(43_000), BOB, true)]);
		// Nothing stale: a block only checks.
		assert_eq!(Margin::on_idle(1, Weight::MAX), read);
	});
}

#[test]
fn try_state_catches_a_position_out_of_the_profit_order() {
	run_test(|| {
		deposit(ALICE, USD, usd(20_000));
		assert_ok!(trade(ALICE, ONE_BTC / 10));
		let key = ProfitOrder::<Test>::iter_keys().next().expect("indexed");
		ProfitOrder::<Test>::remove(key);
		assert!(Margin::do_try_state().is_err());
		ProfitOrder::<Test>::insert(key, ());
		ProfitOrder::<Test>::insert((BTC_PERP, false, [0u8; 16], BOB), ());
		assert!(Margin::do_try_state().is_err());
		ProfitOrder::<Test>::remove((BTC_PERP, false, [0u8; 16], BOB));
	});
}

#[test]
fn a_liquidation_under_way_goes_on_until_the_account_is_above_its_exit() {
	run_test(|| {
		assert_ok!(Margin::fund_vault(RuntimeOrigin::signed(CHARLIE), usd(100_000)));
		deposit(ALICE, USD, usd(10_150));
		assert_ok!(trade(ALICE, 2 * ONE_BTC));
		set_price(BTC, p(46_000));
		// Half the position at the price, without a penalty: equity 2,050 against a
		// maintenance margin of 2,300.
		let close = Close { market: BTC_PERP, amount: BTC_UNIT, price: p(46_000) };
		let reduced =
			Margin::reduce_positions(&ALICE, &[close], Perbill::zero(), &FUND, &mut quotes())
				.unwrap();
		let after = reduced.after.unwrap();
		assert_eq!(after.margins.state(), HealthState::Liquidatable);
		assert!(after.in_liquidation);
		// At 46,400: equity 2,450, above the maintenance margin of 2,320 but below its exit,
		// 110% of it (2,552): still in liquidation, and found.
		set_price(BTC, p(46_400));
		let risk = Margin::risk(&ALICE, &mut quotes()).unwrap();
		assert_eq!(risk.margins.equity, usd(2_450) as i128);
		assert_eq!(risk.margins.state(), HealthState::Restricted);
		assert!(risk.in_liquidation);
		assert_eq!(Margin::candidates(10), vec![ALICE]);
		// A deposit that leaves it below its exit re-indexes it and keeps it there.
		deposit(ALICE, USD, usd(50));
		assert!(Margin::risk(&ALICE, &mut quotes()).unwrap().in_liquidation);
		assert_eq!(Margin::candidates(10), vec![ALICE]);
		// One that lifts it above (2,600) ends the liquidation: not found at this price.
		deposit(ALICE, USD, usd(100));
		let risk = Margin::risk(&ALICE, &mut quotes()).unwrap();
		assert!(!risk.in_liquidation);
		assert!(!crate::Accounts::<Test>::get(ALICE).unwrap().crossed);
		assert!(Margin::candidates(10).is_empty());
		// Without a liquidation under way, below the exit but above maintenance is only
		// restricted: at 46,300, equity 2,500 against 2,315 and its exit, 2,546.5.
		set_price(BTC, p(46_300));
		let risk = Margin::risk(&ALICE, &mut quotes()).unwrap();
		assert_eq!(risk.margins.state(), HealthState::Restricted);
		assert!(!risk.in_liquidation);
	});
}
