//! The panel's faults and the siren: tamper causes and the `*2` reset, batteries, and what
//! they report.

use super::*;

impl Panel {
    pub(super) fn sound(&mut self, now: UnixMicros) {
        self.siren_until =
            Some(now.add_micros(i64::from(self.config.siren_cutoff_s) * MICROS_PER_SECOND));
    }

    pub(super) fn tamper_causes(&self) -> Vec<(u32, TamperCause)> {
        let mut causes = Vec::new();
        for point in self.points.values() {
            if point.covered {
                causes.push((point.spec.number, TamperCause::Covered));
            }
            if point.dismounted {
                causes.push((point.spec.number, TamperCause::Dismounted));
            }
        }
        causes
    }

    pub(super) fn set_tamper(
        &mut self,
        now: UnixMicros,
        point: u32,
        cause: TamperCause,
        on: bool,
    ) -> Result<(), Refusal> {
        let Some(state) = self.points.get_mut(&point) else {
            return Err(Refusal::NoSuchPoint(point));
        };
        let flag = match cause {
            TamperCause::Covered => &mut state.covered,
            TamperCause::Dismounted => &mut state.dismounted,
            TamperCause::Knock => return Err(Refusal::WrongKind(point)),
        };
        if *flag == on {
            return Err(Refusal::AlreadySo);
        }
        *flag = on;
        let partition = state.spec.partition;
        let code = if on {
            ReportCode::Tamper
        } else {
            ReportCode::TamperRestore
        };
        if on {
            self.service = Some(ServiceReset::Waiting);
        }
        self.push(now, code, partition, point, Attribution::System);
        Ok(())
    }

    pub(super) fn point_name(&self, point: u32) -> String {
        if point == CONTROL_BOX {
            return "Centralenhet".into();
        }
        self.points
            .get(&point)
            .map_or_else(|| point.to_string(), |p| p.spec.name.clone())
    }

    pub(super) fn battery(
        &mut self,
        now: UnixMicros,
        point: u32,
        percent: u8,
    ) -> Result<(), Refusal> {
        let low = percent < self.config.low_battery_percent;
        let (reported, partition, low_code, ok_code) = if point == CONTROL_BOX {
            self.battery_percent = percent;
            (
                &mut self.low_battery_reported,
                1,
                ReportCode::PanelBatteryLow,
                ReportCode::PanelBatteryRestored,
            )
        } else {
            let Some(state) = self.points.get_mut(&point) else {
                return Err(Refusal::NoSuchPoint(point));
            };
            state.battery_percent = percent;
            (
                &mut state.low_battery_reported,
                state.spec.partition,
                ReportCode::PointBatteryLow,
                ReportCode::PointBatteryRestored,
            )
        };
        if low != *reported {
            *reported = low;
            let code = if low { low_code } else { ok_code };
            self.push(now, code, partition, point, Attribution::System);
        }
        Ok(())
    }
}
