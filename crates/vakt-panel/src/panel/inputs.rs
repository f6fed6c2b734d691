//! What the panel does with each input: codes, tags and remotes checked against their
//! authority, arming and disarming with their delays, points opening and closing, and the
//! alarms that follow.

use super::*;

impl Panel {
    pub(super) fn apply_inner(&mut self, now: UnixMicros, input: Input) -> Result<(), Refusal> {
        match input {
            Input::Arm {
                credential,
                mode,
                partition,
            } => self.arm(now, &credential, mode, partition),
            Input::Disarm {
                credential,
                partition,
            } => self.disarm(now, &credential, partition),
            Input::Open { point } => self.set_active(now, point, true, PointKind::DoorWindow),
            Input::Close { point } => self.set_active(now, point, false, PointKind::DoorWindow),
            Input::Movement { point, pets_kg } => {
                let kind = self.kind(point)?;
                if !kind.senses_motion() {
                    return Err(Refusal::WrongKind(point));
                }
                let ignored = kind == PointKind::PetImmuneMotion
                    && pets_kg.is_some_and(|kg| kg <= self.config.pet_immunity_kg);
                if ignored {
                    return Ok(());
                }
                self.set_active(now, point, true, kind)
            }
            Input::Still { point } => {
                let kind = self.kind(point)?;
                if !kind.senses_motion() {
                    return Err(Refusal::WrongKind(point));
                }
                self.set_active(now, point, false, kind)
            }
            Input::Smoke { point } => self.set_active(now, point, true, PointKind::Smoke),
            Input::SmokeClears { point } => self.set_active(now, point, false, PointKind::Smoke),
            Input::Panic { point } => {
                if self.kind(point)? != PointKind::Panic {
                    return Err(Refusal::WrongKind(point));
                }
                let partition = self.partition_of(point);
                // Silent: the centre is told, the siren stays quiet.
                self.push(
                    now,
                    ReportCode::Panic,
                    partition,
                    point,
                    Attribution::System,
                );
                Ok(())
            }
            Input::Cover { point } => {
                if !self.kind(point)?.senses_motion() {
                    return Err(Refusal::WrongKind(point));
                }
                self.set_tamper(now, point, TamperCause::Covered, true)
            }
            Input::Uncover { point } => self.set_tamper(now, point, TamperCause::Covered, false),
            Input::Dismount { point } => {
                self.kind(point)?;
                self.set_tamper(now, point, TamperCause::Dismounted, true)
            }
            Input::Remount { point } => self.set_tamper(now, point, TamperCause::Dismounted, false),
            Input::Knock => {
                // A knock is momentary: once reported, only the service reset remains.
                self.push(now, ReportCode::Tamper, 1, CONTROL_BOX, Attribution::System);
                self.service = Some(ServiceReset::Waiting);
                Ok(())
            }
            Input::StarTwo => {
                self.show_service = self.service.is_some();
                Ok(())
            }
            Input::MainsLost => self.set_mains(now, false),
            Input::MainsRestored => self.set_mains(now, true),
            Input::BatteryLevel { point, percent } => self.battery(now, point, percent.min(100)),
            Input::Enrol { by, enrolled } => {
                let user = self.authorise_main(now, &by)?;
                self.credentials
                    .retain(|c| c.credential != enrolled.credential);
                self.credentials.push(enrolled);
                self.push(now, ReportCode::ProgrammingChanged, 1, user.0, user.1);
                Ok(())
            }
            Input::Withdraw { by, credential } => {
                let user = self.authorise_main(now, &by)?;
                let before = self.credentials.len();
                self.credentials
                    .retain(|c| c.credential != credential || c.authority == Authority::Main);
                if self.credentials.len() == before {
                    return Err(Refusal::AlreadySo);
                }
                self.push(now, ReportCode::ProgrammingChanged, 1, user.0, user.1);
                Ok(())
            }
            Input::Program {
                by,
                exit_delay_s,
                entry_delay_s,
            } => {
                let user = self.authorise_main(now, &by)?;
                self.config.exit_delay_s = exit_delay_s;
                self.config.entry_delay_s = entry_delay_s;
                self.push(now, ReportCode::ProgrammingChanged, 1, user.0, user.1);
                Ok(())
            }
            Input::TestStart { credential } => {
                let (number, by) = self.identify(now, &credential)?;
                self.testing = true;
                self.push(now, ReportCode::TestStart, 1, number, by);
                Ok(())
            }
            Input::TestEnd { credential } => {
                let (number, by) = self.identify(now, &credential)?;
                if !self.testing {
                    return Err(Refusal::AlreadySo);
                }
                self.testing = false;
                self.push(now, ReportCode::TestEnd, 1, number, by);
                Ok(())
            }
        }
    }

    pub(super) fn set_mains(&mut self, now: UnixMicros, on: bool) -> Result<(), Refusal> {
        if self.mains == on {
            return Err(Refusal::AlreadySo);
        }
        self.mains = on;
        let code = if on {
            ReportCode::MainsRestored
        } else {
            ReportCode::MainsLost
        };
        self.push(now, code, 1, CONTROL_BOX, Attribution::System);
        Ok(())
    }

    pub(super) fn kind(&self, point: u32) -> Result<PointKind, Refusal> {
        self.points
            .get(&point)
            .map(|p| p.spec.kind)
            .ok_or(Refusal::NoSuchPoint(point))
    }

    pub(super) fn partition_of(&self, point: u32) -> u8 {
        self.points.get(&point).map_or(1, |p| p.spec.partition)
    }

    /// Who a credential belongs to: the user number reported and the log's attribution.
    pub(super) fn identify(
        &mut self,
        now: UnixMicros,
        credential: &Credential,
    ) -> Result<(u32, Attribution), Refusal> {
        if *credential == Credential::App {
            self.wrong_codes = 0;
            return Ok((UNKNOWN_USER, Attribution::Unknown));
        }
        let Some(enrolled) = self
            .credentials
            .iter()
            .find(|c| c.credential == *credential)
        else {
            if matches!(credential, Credential::Code(_)) {
                self.wrong_codes += 1;
                if self.wrong_codes == self.config.wrong_codes_max {
                    self.push(
                        now,
                        ReportCode::WrongCodes,
                        1,
                        UNKNOWN_USER,
                        Attribution::Unknown,
                    );
                }
            }
            return Err(Refusal::WrongCode);
        };
        self.wrong_codes = 0;
        Ok(self.attribution(enrolled.user))
    }

    pub(super) fn attribution(&self, user: Option<u32>) -> (u32, Attribution) {
        match user.and_then(|n| self.users.get(&n)) {
            Some(user) => (
                user.number,
                Attribution::User {
                    number: user.number,
                    name: user.name.clone(),
                },
            ),
            None => (UNKNOWN_USER, Attribution::Unknown),
        }
    }

    pub(super) fn authorise_main(
        &mut self,
        now: UnixMicros,
        by: &Credential,
    ) -> Result<(u32, Attribution), Refusal> {
        let who = self.identify(now, by)?;
        let main = self
            .credentials
            .iter()
            .any(|c| c.credential == *by && c.authority == Authority::Main);
        if main {
            Ok(who)
        } else {
            Err(Refusal::NotAuthorised)
        }
    }

    pub(super) fn selected(&self, partition: Option<u8>) -> Vec<u8> {
        self.partitions
            .keys()
            .copied()
            .filter(|n| partition.is_none_or(|p| p == *n))
            .collect()
    }

    pub(super) fn arm(
        &mut self,
        now: UnixMicros,
        credential: &Credential,
        mode: ArmMode,
        partition: Option<u8>,
    ) -> Result<(), Refusal> {
        let (user, by) = self.identify(now, credential)?;
        let not_ready = self.not_ready(partition, mode);
        if !not_ready.is_empty() {
            return Err(Refusal::NotReady { points: not_ready });
        }
        let targets: Vec<u8> = self
            .selected(partition)
            .into_iter()
            .filter(|n| self.partitions.get(n).is_some_and(|s| s.is_disarmed()))
            .collect();
        if targets.is_empty() {
            return Err(Refusal::AlreadySo);
        }
        let until = now.add_micros(i64::from(self.config.exit_delay_s) * MICROS_PER_SECOND);
        let code = match (credential, mode) {
            (Credential::App, _) => ReportCode::RemoteClosing,
            (_, ArmMode::Away) => ReportCode::Closing,
            (_, ArmMode::Home) => ReportCode::PartialClosing,
        };
        for number in targets {
            self.partitions
                .insert(number, ArmState::Exiting { mode, until });
            self.push(now, code, number, user, by.clone());
        }
        if self.service == Some(ServiceReset::Waiting) && self.tamper_causes().is_empty() {
            self.service = Some(ServiceReset::ArmedOnce);
        }
        self.tick(now);
        Ok(())
    }

    pub(super) fn disarm(
        &mut self,
        now: UnixMicros,
        credential: &Credential,
        partition: Option<u8>,
    ) -> Result<(), Refusal> {
        let (user, by) = self.identify(now, credential)?;
        let targets: Vec<u8> = self
            .selected(partition)
            .into_iter()
            .filter(|n| self.partitions.get(n).is_some_and(|s| !s.is_disarmed()))
            .collect();
        if targets.is_empty() && self.siren_until.is_none() {
            return Err(Refusal::AlreadySo);
        }
        let code = if *credential == Credential::App {
            ReportCode::RemoteOpening
        } else {
            ReportCode::Opening
        };
        for number in targets {
            self.partitions.insert(number, ArmState::Disarmed);
            self.push(now, code, number, user, by.clone());
        }
        self.siren_until = None;
        for point in self.points.values_mut() {
            point.alarmed = false;
        }
        if self.service == Some(ServiceReset::ArmedOnce) {
            if self.tamper_causes().is_empty() {
                self.service = None;
                self.show_service = false;
            } else {
                self.service = Some(ServiceReset::Waiting);
            }
        }
        Ok(())
    }

    pub(super) fn set_active(
        &mut self,
        now: UnixMicros,
        point: u32,
        active: bool,
        expected: PointKind,
    ) -> Result<(), Refusal> {
        let kind = self.kind(point)?;
        if kind != expected {
            return Err(Refusal::WrongKind(point));
        }
        let Some(state) = self.points.get_mut(&point) else {
            return Err(Refusal::NoSuchPoint(point));
        };
        if state.active == active {
            return Ok(());
        }
        state.active = active;
        let partition = state.spec.partition;
        let alarmed = state.alarmed;
        if kind == PointKind::Smoke {
            let code = if active {
                ReportCode::Fire
            } else {
                ReportCode::FireRestore
            };
            if active {
                self.sound(now);
            }
            self.push(now, code, partition, point, Attribution::System);
            return Ok(());
        }
        if active {
            self.trigger(now, point);
        } else if alarmed {
            self.push(
                now,
                ReportCode::BurglaryRestore,
                partition,
                point,
                Attribution::System,
            );
        }
        Ok(())
    }

    pub(super) fn point_armed(&self, point: &PointState, mode: ArmMode) -> bool {
        mode == ArmMode::Away || !point.spec.kind.senses_motion()
    }

    /// A point became active: start the entry delay or the alarm, as the state says.
    pub(super) fn trigger(&mut self, now: UnixMicros, point: u32) {
        let Some(state) = self.points.get(&point) else {
            return;
        };
        let partition = state.spec.partition;
        let entry_route = state.spec.entry_route;
        match self.partitions.get(&partition).copied() {
            Some(ArmState::Armed { mode }) if self.point_armed(state, mode) => {
                if entry_route {
                    let until =
                        now.add_micros(i64::from(self.config.entry_delay_s) * MICROS_PER_SECOND);
                    self.partitions
                        .insert(partition, ArmState::Entry { mode, until, point });
                } else {
                    self.alarm(now, partition, mode, point);
                }
            }
            // Walking to the keypad during the entry delay is allowed; a door off the entry
            // route is not.
            Some(ArmState::Entry { mode, .. })
                if !entry_route && !state.spec.kind.senses_motion() =>
            {
                self.alarm(now, partition, mode, point);
            }
            Some(ArmState::Alarm { .. }) if !state.alarmed => {
                if let Some(state) = self.points.get_mut(&point) {
                    state.alarmed = true;
                }
                self.push(
                    now,
                    ReportCode::Burglary,
                    partition,
                    point,
                    Attribution::System,
                );
            }
            _ => {}
        }
    }

    pub(super) fn alarm(&mut self, now: UnixMicros, partition: u8, mode: ArmMode, point: u32) {
        self.partitions
            .insert(partition, ArmState::Alarm { mode, point });
        if let Some(state) = self.points.get_mut(&point) {
            state.alarmed = true;
        }
        self.sound(now);
        self.push(
            now,
            ReportCode::Burglary,
            partition,
            point,
            Attribution::System,
        );
    }
}
