//! Online processing and completion (EMV Book 3 §10.9-§10.11): issuer authentication (EXTERNAL
//! AUTHENTICATE, or in the second GENERATE AC), issuer scripts 71 before and 72 after the final
//! GENERATE AC with the script results (9F5B), and the unable-to-go-online path.

use crate::action::{self, Cryptogram};
use crate::apdu::Apdu;
use crate::kernel::{Ctx, HostResponse, Phase};
use crate::oda::aip;
use crate::outcome::Decision;
use crate::transport::{CardTransport, Channel};
use crate::tvr::{TsiBit, TvrBit};
use smartpos_tlv::TlvReader;

/// Process the scripts of one template tag (71 or 72), Book 3 §10.10.
fn run_scripts<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    scripts: &[u8],
    template: u32,
) -> Phase<()> {
    let fail_bit = if template == 0x71 {
        TvrBit::ScriptFailedBeforeFinalGenerateAc
    } else {
        TvrBit::ScriptFailedAfterFinalGenerateAc
    };
    for script in TlvReader::new(scripts) {
        let Ok(script) = script else {
            ctx.set(fail_bit);
            break;
        };
        if script.tag.0 != template {
            continue;
        }
        ctx.tsi(TsiBit::ScriptProcessingPerformed);
        let mut id = [0u8; 4];
        let mut result = 0x20u8; // performed, sequence 0
        let mut n = 0u8;
        for cmd in script.children() {
            let Ok(cmd) = cmd else {
                result = 0x10;
                ctx.set(fail_bit);
                break;
            };
            match cmd.tag.0 {
                0x9F18 => {
                    for (d, s) in id.iter_mut().zip(cmd.value) {
                        *d = *s;
                    }
                }
                0x86 => {
                    n = n.saturating_add(1);
                    let Ok(apdu) = Apdu::decode(cmd.value) else {
                        result = 0x10 | n.min(0x0F);
                        ctx.set(fail_bit);
                        break;
                    };
                    let resp = ch.transmit(&apdu)?;
                    // Book 3 §10.10: 90xx, 62xx, 63xx continue; anything else ends the script.
                    if !matches!(resp.sw1, 0x90 | 0x62 | 0x63) {
                        result = 0x10 | n.min(0x0F);
                        ctx.set(fail_bit);
                        break;
                    }
                }
                _ => {}
            }
        }
        ctx.script_results.push(result);
        ctx.script_results.extend_from_slice(&id);
    }
    if !ctx.script_results.is_empty() {
        ctx.store.set_terminal(0x9F5B, ctx.script_results.clone());
    }
    Ok(())
}

/// Complete an ARQC transaction: with the host's answer, or (None) unable to go online.
pub(crate) fn complete_online<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    host: Option<&HostResponse>,
) -> Phase<Decision> {
    let requested = match host {
        None => {
            // Book 3 §10.7: default action analysis; ARC Y3/Z3 (unable to go online).
            let c = action::default_action_analysis(ctx);
            ctx.store.set_terminal(
                0x8A,
                if c == Cryptogram::Tc {
                    b"Y3".to_vec()
                } else {
                    b"Z3".to_vec()
                },
            );
            c
        }
        Some(h) => {
            let arc = h.arc.as_bytes();
            if arc.len() == 2 {
                ctx.store.set_terminal(0x8A, arc.to_vec());
            } else {
                ctx.store.set_terminal(
                    0x8A,
                    if h.approved {
                        b"00".to_vec()
                    } else {
                        b"05".to_vec()
                    },
                );
            }
            let iad = &h.issuer_authentication_data;
            if !iad.is_empty() {
                ctx.store.set_terminal(0x91, iad.clone());
                let in_cdol2 = ctx
                    .store
                    .get(0x8D)
                    .is_some_and(|d| crate::dol::contains(d, 0x91));
                if ctx.aip[0] & aip::ISSUER_AUTHENTICATION != 0 {
                    // §10.9: EXTERNAL AUTHENTICATE.
                    let resp = ch.transmit(&Apdu::external_authenticate(iad))?;
                    ctx.tsi(TsiBit::IssuerAuthenticationPerformed);
                    if !resp.is_ok() {
                        ctx.set(TvrBit::IssuerAuthenticationFailed);
                    }
                } else if in_cdol2 {
                    ctx.tsi(TsiBit::IssuerAuthenticationPerformed);
                }
            }
            // §10.10: scripts 71 after issuer authentication, before the final GENERATE AC.
            run_scripts(ctx, ch, &h.scripts, 0x71)?;
            if h.approved {
                Cryptogram::Tc
            } else {
                Cryptogram::Aac
            }
        }
    };
    let got = action::generate_ac(ctx, ch, requested, 0x8D, false)?;
    if let Some(h) = host {
        run_scripts(ctx, ch, &h.scripts, 0x72)?;
    }
    Ok(match got {
        Cryptogram::Tc => Decision::Approved,
        _ => Decision::Declined,
    })
}
