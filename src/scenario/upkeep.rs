//! Validating maintenance, latent failures, spare pools and load sharing
//! (SPEC §9): every bad value is an issue with its JSON path.

use serde_json::Value;

use super::entries::Entries;
use super::raw::{RawComponent, RawLatent, RawLoadSharing, RawMaintenance, RawOrder, RawSparePool};
use super::{closest, section, valid_name, Loader, MAX_INSTANCES};
use crate::error::Issue;
use crate::model::dist::{hours, number};
use crate::model::{Latent, LoadShare, Maintenance, SparePool, Upkeep};

impl Loader {
    /// Reads `spares` (before the components that refer to it).
    pub(super) fn spares(&mut self, entries: Entries) {
        for (name, value) in entries.0 {
            let path = format!("spares.{name}");
            if !valid_name(&name) || name.contains('.') {
                self.push(
                    Issue::new(&path, format!("invalid spare pool name \"{name}\""))
                        .hint("use letters, digits, '-' and '_'"),
                );
                continue;
            }
            let Some(raw) = section::<RawSparePool>(value, &path, &mut self.issues) else {
                continue;
            };
            let stock = match u32::try_from(raw.stock) {
                Ok(k) if u64::from(k) <= MAX_INSTANCES => Some(k),
                _ => {
                    self.push(
                        Issue::new(
                            format!("{path}.stock"),
                            format!(
                                "stock must be a whole number between 0 and {MAX_INSTANCES}, got {}",
                                raw.stock
                            ),
                        )
                        .hint("the number of spare parts on the shelf at the start"),
                    );
                    None
                }
            };
            let lead_time = self.delay(raw.lead_time, &format!("{path}.lead_time"));
            if let (Some(stock), Some(lead_time)) = (stock, lead_time) {
                self.spares.push(SparePool {
                    name,
                    stock,
                    lead_time,
                    users: Vec::new(),
                });
            }
        }
    }

    /// The §9 settings of each of a component's `count` instances (checked
    /// once for the component).
    pub(super) fn upkeep(
        &mut self,
        raw: &RawComponent,
        path: &str,
        count: usize,
    ) -> Option<Vec<Upkeep>> {
        let maintenance = raw
            .maintenance
            .as_ref()
            .map(|m| self.maintenance(m, &format!("{path}.maintenance"), count));
        let latent = raw
            .latent
            .as_ref()
            .map(|l| self.latent(l, &format!("{path}.latent")));
        let spare = raw
            .spare
            .as_deref()
            .map(|name| self.spare_ref(name, &format!("{path}.spare")));
        let maintenance = maintenance.map_or(Some(None), |m| m.map(Some))?;
        let latent = latent.map_or(Some(None), |l| l.map(Some))?;
        let spare = spare.map_or(Some(None), |s| s.map(Some))?;
        Some(
            (0..count)
                .map(|j| Upkeep {
                    maintenance: maintenance.as_ref().map(|m| m(j)),
                    latent: latent.map(|l| Latent {
                        first_test: l.test_interval * (1.0 + j as f64 / count as f64),
                        ..l
                    }),
                    spare,
                })
                .collect(),
        )
    }

    fn maintenance(
        &mut self,
        raw: &RawMaintenance,
        path: &str,
        count: usize,
    ) -> Option<impl Fn(usize) -> Maintenance> {
        let (interval, duration) = (raw.interval.hours(), raw.duration.hours());
        let order = raw.order.unwrap_or_default();
        let mut ok = true;
        if interval <= 0.0 {
            self.push(Issue::new(
                format!("{path}.interval"),
                "the maintenance interval must be positive",
            ));
            ok = false;
        }
        if duration <= 0.0 {
            self.push(
                Issue::new(
                    format!("{path}.duration"),
                    "the maintenance duration must be positive",
                )
                .hint("remove `maintenance` if nothing is taken down"),
            );
            ok = false;
        }
        let slots = if order == RawOrder::Rolling { count } else { 1 };
        if ok && (duration * slots as f64 > interval || (slots == 1 && duration >= interval)) {
            let issue = if slots > 1 {
                Issue::new(
                    format!("{path}.duration"),
                    format!(
                        "rolling maintenance of {count} instances, {} each, does not fit one at a time in an interval of {}",
                        hours(duration),
                        hours(interval)
                    ),
                )
                .hint("shorten the duration, lengthen the interval, or use \"order\": \"together\"")
            } else {
                Issue::new(
                    format!("{path}.duration"),
                    format!(
                        "the maintenance duration ({}) is not shorter than its interval ({}): the instance would never be up",
                        hours(duration),
                        hours(interval)
                    ),
                )
                .hint("the interval runs from the start of one window to the start of the next")
            };
            self.push(issue);
            ok = false;
        }
        if !ok {
            return None;
        }
        let offset = raw.offset.map_or(interval, |o| o.hours());
        let renew = raw.renew.unwrap_or(false);
        let step = interval / slots as f64;
        Some(move |j: usize| Maintenance {
            interval,
            duration,
            renew,
            first: if slots > 1 {
                offset + step * j as f64
            } else {
                offset
            },
        })
    }

    fn latent(&mut self, raw: &RawLatent, path: &str) -> Option<Latent> {
        let mut ok = true;
        if !(0.0..=1.0).contains(&raw.fraction) {
            self.push(
                Issue::new(
                    format!("{path}.fraction"),
                    format!(
                        "fraction must be between 0 and 1, got {}",
                        number(raw.fraction)
                    ),
                )
                .hint("the share of failures nobody notices until a test or a demand, e.g. 0.3"),
            );
            ok = false;
        }
        let interval = raw.test.interval.hours();
        let duration = raw.test.duration.map_or(0.0, |d| d.hours());
        if interval <= duration {
            self.push(
                Issue::new(
                    format!("{path}.test.interval"),
                    format!(
                        "the test interval ({}) must be longer than the test duration ({})",
                        hours(interval),
                        hours(duration)
                    ),
                )
                .hint("tests every interval, each taking duration"),
            );
            ok = false;
        }
        ok.then_some(Latent {
            fraction: raw.fraction,
            test_interval: interval,
            test_duration: duration,
            first_test: interval,
        })
    }

    fn spare_ref(&mut self, name: &str, path: &str) -> Option<usize> {
        if let Some(i) = self.spares.iter().position(|s| s.name == name) {
            return Some(i);
        }
        let issue = Issue::new(path, format!("unknown spare pool `{name}`"));
        let issue = match closest(name, self.spares.iter().map(|s| s.name.as_str())) {
            Some(s) => issue.hint(format!("did you mean `{s}`?")),
            None => issue.hint(
                "define it under `spares`, e.g. \"spares\": {\"disks\": {\"stock\": 2, \"lead_time\": \"72h\"}}",
            ),
        };
        self.push(issue);
        None
    }

    /// Records the users of each pool; a pool nobody uses is an error.
    pub(super) fn spare_users(&mut self) {
        for (i, inst) in self.instances.iter().enumerate() {
            if let Some(s) = inst.upkeep.spare {
                self.spares[s].users.push(i);
            }
        }
        let unused: Vec<String> = self
            .spares
            .iter()
            .filter(|s| s.users.is_empty())
            .map(|s| s.name.clone())
            .collect();
        for name in unused {
            self.push(
                Issue::new(
                    format!("spares.{name}"),
                    format!("spare pool `{name}` is not used by any component"),
                )
                .hint("add \"spare\": \"NAME\" to the components whose repairs need its parts, or remove it"),
            );
        }
    }

    /// Reads a `load_sharing` value for the gate node just completed.
    pub(super) fn load_sharing(&mut self, value: &Value, path: &str, gate: usize) {
        let Some(raw) = section::<RawLoadSharing>(value.clone(), path, &mut self.issues) else {
            return;
        };
        let exponent = raw.exponent.unwrap_or(1.0);
        if !(0.0..=MAX_EXPONENT).contains(&exponent) {
            self.push(
                Issue::new(
                    format!("{path}.exponent"),
                    format!(
                        "the exponent must be a number from 0 to {MAX_EXPONENT}, got {}",
                        number(exponent)
                    ),
                )
                .hint("1 (the default): survivors age n/m times faster; 0: no load sharing; larger exponents make (n/m)^a overflow"),
            );
            return;
        }
        self.load_shares.push(LoadShare { gate, exponent });
    }
}

/// Largest load-sharing exponent: (n/m)^a stays finite for any group size.
const MAX_EXPONENT: f64 = 20.0;
