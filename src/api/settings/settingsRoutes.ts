import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { controlSettingsSchema } from '../../domain/settings/controlSettings.ts';
import { actorOf } from '../control/access.ts';
import { errorResponses, R } from '../control/schemas.ts';

export const settingsRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/settings',
    { config: { access: { roles: R.all } }, schema: { tags: ['settings'], summary: 'Rule and test settings (lead working days, test slot times, pass criteria)', response: { 200: controlSettingsSchema, ...errorResponses } } },
    async () => services.settings.get(),
  );
  app.put(
    '/settings',
    {
      config: { access: { roles: R.admin } },
      schema: { tags: ['settings'], summary: 'Replace the settings (missing fields take their defaults)', body: controlSettingsSchema.strict(), response: { 200: controlSettingsSchema, ...errorResponses } },
    },
    async (request) => services.settings.put(actorOf(request), request.body),
  );
};
