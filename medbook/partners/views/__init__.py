"""The partner module's pages, by audience: the institution's Partner Module and Traffic Channels
(`module`), the contact person's registration (`registration`), the partner's portal (`portal`), Book to
partner (`book`) and its bookings and feed (`feed`)."""
