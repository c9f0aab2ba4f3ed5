//! The request budget for the target (`--max-requests`), with requests set aside for the
//! clean-up: before a request that may create a product is sent, one request is reserved to
//! archive it, so the budget can never run out with a product left behind.

/// Why a request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request budget ran out (--max-requests {max})")]
pub(crate) struct Exhausted {
    /// The budget.
    pub(crate) max: u32,
}

/// Requests sent, and requests set aside.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    max: u32,
    used: u32,
    reserved: u32,
}

impl Budget {
    /// A budget of `max` requests.
    pub(crate) fn new(max: u32) -> Self {
        Self {
            max,
            used: 0,
            reserved: 0,
        }
    }

    /// Requests sent so far.
    pub(crate) fn used(&self) -> u32 {
        self.used
    }

    /// Takes one request: from what is set aside when `reserved` (the clean-up) and some is,
    /// else from what is free.
    pub(crate) fn spend(&mut self, reserved: bool) -> Result<(), Exhausted> {
        let exhausted = Exhausted { max: self.max };
        if reserved && self.reserved > 0 && self.used < self.max {
            self.reserved -= 1;
            self.used += 1;
            return Ok(());
        }
        let committed = self.used.checked_add(self.reserved).ok_or(exhausted)?;
        if committed >= self.max {
            return Err(exhausted);
        }
        self.used += 1;
        Ok(())
    }

    /// Sets one request aside (to archive a product the next request may create); refused
    /// unless that request and the one set aside both fit.
    pub(crate) fn reserve(&mut self) -> Result<(), Exhausted> {
        let exhausted = Exhausted { max: self.max };
        let committed = self.used.checked_add(self.reserved).ok_or(exhausted)?;
        if committed
            .checked_add(2)
            .is_none_or(|after| after > self.max)
        {
            return Err(exhausted);
        }
        self.reserved += 1;
        Ok(())
    }

    /// Gives back a request set aside (the request created nothing).
    pub(crate) fn release(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stop_at_the_budget() {
        let mut budget = Budget::new(2);
        assert!(budget.spend(false).is_ok());
        assert!(budget.spend(false).is_ok());
        assert_eq!(budget.spend(false), Err(Exhausted { max: 2 }));
        assert_eq!(budget.used(), 2);
    }

    #[test]
    fn a_reserved_request_is_kept_for_the_clean_up() {
        let mut budget = Budget::new(3);
        budget.reserve().expect("the create and its archive fit");
        budget.spend(false).expect("the create");
        budget
            .spend(false)
            .expect("one more fits beside the reserve");
        assert!(
            budget.spend(false).is_err(),
            "the last one is the archive's"
        );
        budget.spend(true).expect("the archive");
        assert_eq!(budget.used(), 3);
    }

    #[test]
    fn a_reservation_needs_room_for_the_request_and_its_archive() {
        let mut budget = Budget::new(1);
        assert!(budget.reserve().is_err());
        let mut budget = Budget::new(2);
        budget.reserve().expect("fits");
        budget.release();
        budget.spend(false).expect("released");
        budget.spend(false).expect("released");
    }
}
