//! Customer plans and their limits.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A customer's subscription plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Basic,
    Pro,
    Business,
    Enterprise,
}

/// Request and message limits of a plan; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanLimits {
    pub requests_per_minute: Option<u32>,
    pub requests_per_hour: Option<u32>,
    pub requests_per_day: Option<u32>,
    pub messages_per_day: Option<u32>,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Plan::Basic, Plan::Pro, Plan::Business, Plan::Enterprise];

    pub const fn as_str(self) -> &'static str {
        match self {
            Plan::Basic => "basic",
            Plan::Pro => "pro",
            Plan::Business => "business",
            Plan::Enterprise => "enterprise",
        }
    }

    /// The plans table.
    pub const fn limits(self) -> PlanLimits {
        match self {
            Plan::Basic => PlanLimits {
                requests_per_minute: Some(60),
                requests_per_hour: Some(1_000),
                requests_per_day: Some(10_000),
                messages_per_day: Some(1_000),
            },
            Plan::Pro => PlanLimits {
                requests_per_minute: Some(300),
                requests_per_hour: Some(5_000),
                requests_per_day: Some(50_000),
                messages_per_day: Some(5_000),
            },
            Plan::Business => PlanLimits {
                requests_per_minute: Some(600),
                requests_per_hour: Some(15_000),
                requests_per_day: Some(150_000),
                messages_per_day: Some(20_000),
            },
            Plan::Enterprise => PlanLimits {
                requests_per_minute: None,
                requests_per_hour: None,
                requests_per_day: None,
                messages_per_day: None,
            },
        }
    }

    /// Monthly price in US dollars.
    pub const fn monthly_price_usd(self) -> u32 {
        match self {
            Plan::Basic => 10,
            Plan::Pro => 25,
            Plan::Business => 50,
            Plan::Enterprise => 150,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown plan `{s}` (basic, pro, business, enterprise)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_through_their_names() {
        for plan in Plan::ALL {
            assert_eq!(plan.as_str().parse::<Plan>().unwrap(), plan);
        }
        assert!("gold".parse::<Plan>().is_err());
    }

    #[test]
    fn enterprise_is_unlimited_and_basic_matches_the_prd() {
        assert_eq!(Plan::Enterprise.limits().messages_per_day, None);
        assert_eq!(Plan::Basic.limits().requests_per_minute, Some(60));
        assert_eq!(Plan::Business.limits().messages_per_day, Some(20_000));
    }
}
