//! The panel's event log and its keypad line, in Swedish or English.

use super::*;

impl Panel {
    pub(super) fn push(
        &mut self,
        now: UnixMicros,
        code: ReportCode,
        partition: u8,
        address: u32,
        by: Attribution,
    ) {
        self.reports.push(Report {
            at: now,
            code,
            partition,
            address,
        });
        if self.log.len() >= self.config.event_log_entries_max {
            self.log.pop_front();
        }
        self.log.push_back(LogEntry {
            at: now,
            code,
            point: (!code.addresses_user()).then_some(address),
            by,
        });
    }

    /// The keypad's display line at `now`, in `lang`.
    #[must_use]
    pub fn display(&self, now: UnixMicros, lang: Lang) -> String {
        let sv = lang == Lang::Sv;
        let remaining = |until: UnixMicros| {
            let seconds = ((until.0 - now.0).max(0) + MICROS_PER_SECOND - 1) / MICROS_PER_SECOND;
            format!("{}:{:02}", seconds / 60, seconds % 60)
        };
        let state = match self.state() {
            ArmState::Disarmed if sv => "Frånkopplat".to_owned(),
            ArmState::Disarmed => "Disarmed".to_owned(),
            ArmState::Exiting { until, .. } if sv => format!("Utpassering {}", remaining(until)),
            ArmState::Exiting { until, .. } => format!("Exit delay {}", remaining(until)),
            ArmState::Armed {
                mode: ArmMode::Away,
            } if sv => "Tillkopplat".to_owned(),
            ArmState::Armed {
                mode: ArmMode::Away,
            } => "Armed".to_owned(),
            ArmState::Armed {
                mode: ArmMode::Home,
            } if sv => "Skalskydd".to_owned(),
            ArmState::Armed {
                mode: ArmMode::Home,
            } => "Armed home".to_owned(),
            ArmState::Entry { until, .. } if sv => {
                format!("Inpassering {} – ange kod", remaining(until))
            }
            ArmState::Entry { until, .. } => {
                format!("Entry delay {} – enter code", remaining(until))
            }
            ArmState::Alarm { point, .. } if sv => format!("LARM: {}", self.point_name(point)),
            ArmState::Alarm { point, .. } => format!("ALARM: {}", self.point_name(point)),
        };
        let fire: Vec<String> = self
            .points
            .values()
            .filter(|p| p.spec.kind == PointKind::Smoke && p.active)
            .map(|p| p.spec.name.clone())
            .collect();
        let mut parts = vec![state];
        if !fire.is_empty() {
            let word = if sv { "BRAND" } else { "FIRE" };
            parts.insert(0, format!("{word}: {}", fire.join(", ")));
        }
        if let Some(refusal) = &self.notice {
            parts.push(refusal.message(lang));
        }
        if self.service.is_some() {
            parts.push(if sv {
                "Behov av service, tryck *2".into()
            } else {
                "Service needed, press *2".into()
            });
            let causes: Vec<String> = self
                .tamper_causes()
                .into_iter()
                .map(|(point, _)| self.point_name(point))
                .collect();
            if self.show_service || !causes.is_empty() {
                let word = if sv { "Sabotage" } else { "Tamper" };
                let what = match (causes.is_empty(), sv) {
                    (false, _) => causes.join(", "),
                    (true, true) => "åtgärdat, ange koden två gånger (till, från)".to_owned(),
                    (true, false) => "cleared, enter the code twice (arm, disarm)".to_owned(),
                };
                parts.push(format!("{word}: {what}"));
            }
        }
        if !self.mains {
            parts.push(if sv { "Nätavbrott" } else { "Mains lost" }.into());
        }
        if self.low_battery_reported {
            parts.push(if sv { "Lågt batteri" } else { "Low battery" }.into());
        }
        parts.join(" · ")
    }
}
