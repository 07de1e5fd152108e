"""Everything that writes the partner module, by audience: the institution's contract and Partner Module
(`contract`), the contact person's registration (`registration`), the partner's portal (`portal`), Book to
partner (`booking`) and the calendar feed (`feed`); `notices` writes the e-mails both sides receive."""
